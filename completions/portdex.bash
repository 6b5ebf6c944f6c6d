# bash completion for portdex(1)                       -*- shell-script -*-
#
# Commands and options are read from the program itself (`portdex --help`
# and `portdex COMMAND --help`), so they always match the binary being
# completed; service names come from `portdex export --format services`
# (about 30 ms).  Both are cached for the shell session.  Works with and
# without the bash-completion package.

# Prints the words of a usage synopsis as "OPTION PLACEHOLDER" lines (the
# placeholder is "-" for a flag) and operand placeholders as "@ WORD".
_portdex_parse_usage()
{
	local -a t
	local i s o v
	read -r -a t <<<"$1"
	for ((i = 0; i < ${#t[@]}; i++)); do
		s=${t[i]}
		s=${s##\[}
		s=${s%%\]*}
		case $s in
		-*)
			v=-
			# a value follows unless the option closes its
			# brackets or the next word is optional or another
			# choice
			if [[ ${t[i]: -1} != "]" ]] && ((i + 1 < ${#t[@]})); then
				case ${t[i + 1]} in
				\[* | \| | -*) ;;
				*)
					v=${t[i + 1]}
					# "[--pid N]": the bracket is the option's
					[[ ${t[i]:0:1} == "[" ]] && v=${v%"]"}
					i=$((i + 1))
					;;
				esac
			fi
			local IFS='|'
			for o in $s; do
				printf '%s %s\n' "$o" "$v"
			done
			unset IFS
			;;
		'' | \| | \.\.\.) ;;
		*) printf '@ %s\n' "$s" ;;
		esac
	done
}

# Prints "OPTION PLACEHOLDER" lines for the options section of a command's
# --help ("  -p, --ports PORTS   what it does"), so every long option is
# offered, not only those of the one-line usage.
_portdex_parse_opts()
{
	local line w i n o
	local -a t pend
	# a placeholder (PORTS, NAME|UID, VERDICT[,...]) or a list of values;
	# in a variable, as a "]" in a bracket expression must come first
	local ph_re='^[A-Z][A-Z_]*([]|:[/.A-Z_,-]*)$|^[a-z0-9]+(\|[a-z0-9]+)+$'
	while IFS= read -r line; do
		[[ $line == "  -"* ]] || continue
		read -r -a t <<<"$line"
		n=${#t[@]}
		pend=()
		for ((i = 0; i < n; i++)); do
			w=${t[i]%,}
			case $w in
			-? | -[a-zA-Z][a-zA-Z] | --[a-z]*)
				pend+=("$w") ;;
			/)
				for o in "${pend[@]}"; do printf '%s -\n' "$o"; done
				pend=() ;;
			*)
				if ((${#pend[@]})) && [[ $w =~ $ph_re ]]; then
					for o in "${pend[@]}"; do printf '%s %s\n' "$o" "$w"; done
				else
					for o in "${pend[@]}"; do printf '%s -\n' "$o"; done
				fi
				pend=()
				break ;;
			esac
		done
		for o in "${pend[@]}"; do printf '%s -\n' "$o"; done
	done
}

# Prints, one a line, the --format values a command's help names: a list
# after the option or its placeholder ("[--format csv|services|json]",
# "--format FMT  text|json|csv ...") or one literal value ("--format
# prometheus  ...").  The help is read from standard input.
_portdex_parse_formats()
{
	awk '{
		for (i = 1; i < NF; i++) {
			if ($i != "--format" && $i != "[--format")
				continue
			w = $(i + 1)
			sub(/\]$/, "", w)
			# "FMT text|json|csv": the values follow the placeholder
			if (w ~ /^[A-Z]+$/ && i + 2 <= NF)
				w = $(i + 2)
			if (w !~ /^[a-z0-9]+(\|[a-z0-9]+)*$/)
				continue
			n = split(w, v, "|")
			for (k = 1; k <= n; k++)
				print v[k]
		}
	}' | sort -u
}

# Fills _portdex_cmds, _portdex_spec_<cmd> and _portdex_fmt_<cmd> (the
# --format values the command takes) from the binary's --help.
_portdex_load()
{
	local bin=$1 line name usage
	[[ ${_portdex_bin-} == "$bin" && -n ${_portdex_cmds-} ]] && return 0
	_portdex_bin=$bin
	_portdex_cmds=
	_portdex_spec__global=
	_portdex_services=
	_portdex_services_db=
	while IFS= read -r line; do
		case $line in
		"usage: portdex "*)
			usage=${line#usage: portdex }
			_portdex_spec__global=$(_portdex_parse_usage "$usage")
			_portdex_spec__global+=$'\n--version -\n-V -\n--help -\n-h -\n--quiet -'
			;;
		"  "[a-z]*)
			read -r name usage <<<"$line"
			_portdex_cmds+=" $name"
			printf -v "_portdex_spec_${name//[^a-z]/_}" '%s' \
			    "$(_portdex_parse_usage "$usage")"
			;;
		esac
	done < <("$bin" --help 2>/dev/null)
	# each command's own --help lists every option it takes
	for name in $_portdex_cmds; do
		local more help
		help=$("$bin" "$name" --help 2>/dev/null)
		more=$(_portdex_parse_opts <<<"$help")
		printf -v "_portdex_fmt_${name//[^a-z]/_}" '%s' \
		    "$(_portdex_parse_formats <<<"$help")"
		[[ -n $more ]] && printf -v "_portdex_spec_${name//[^a-z]/_}" \
		    '%s\n%s' "$(eval "printf '%s' \"\${_portdex_spec_${name//[^a-z]/_}-}\"")" \
		    "$more"
	done
	[[ -n $_portdex_cmds ]]
}

# Service names starting with $2, from the registry $1 ("" = default).
_portdex_service_names()
{
	local db=$1 cur=$2
	if [[ -z $_portdex_services || $_portdex_services_db != "$db" ]]; then
		_portdex_services=$("$_portdex_bin" ${db:+--db "$db"} export \
		    --format services 2>/dev/null |
		    awk '!/^#/ && NF { print $1 }' | sort -u)
		_portdex_services_db=$db
	fi
	[[ -n $_portdex_services ]] || return 0
	awk -v p="$cur" 'index($0, p) == 1' <<<"$_portdex_services"
}

# Completes the value of option $1 whose placeholder is $2, after command
# $4.
_portdex_value()
{
	local opt=$1 ph=$2 cur=$3 cmd=${4-} fmts
	case $opt in
	--user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return ;;
	--pid)
		COMPREPLY=($(compgen -W "$(ps -eo pid= 2>/dev/null)" -- "$cur"))
		return ;;
	--process)
		COMPREPLY=($(compgen -W "$(ps -eo comm= 2>/dev/null | sort -u)" -- "$cur"))
		return ;;
	--netns)
		COMPREPLY=($(compgen -W "$(ls /var/run/netns 2>/dev/null)" -- "$cur"))
		return ;;
	--color)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
		return ;;
	--fail-on)
		COMPREPLY=($(compgen -W "info low medium high" -- "$cur"))
		return ;;
	--ignore)
		# rule ids, from the binary's own rule table
		COMPREPLY=($(compgen -W "$("$_portdex_bin" audit --rules \
		    2>/dev/null | awk '/^[a-z]/ { print $1 }')" -- "$cur"))
		return ;;
	--proto)
		COMPREPLY=($(compgen -W "tcp udp" -- "$cur"))
		return ;;
	--format)
		# the values this command's help names
		eval "fmts=\${_portdex_fmt_${cmd//[^a-z]/_}-}"
		COMPREPLY=($(compgen -W "$fmts" -- "$cur"))
		return ;;
	esac
	case $ph in
	*[a-z]*\|*)
		COMPREPLY=($(compgen -W "${ph//|/ }" -- "$cur")) ;;
	DIR)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur")) ;;
	FILE* | PATH)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	HOST)
		COMPREPLY=($(compgen -A hostname -- "$cur")) ;;
	*)
		COMPREPLY=() ;;
	esac
}

_portdex()
{
	local cur=${COMP_WORDS[COMP_CWORD]} bin=${COMP_WORDS[0]}
	local i w cmd='' db='' spec gspec ph opt
	local IFS=$' \t\n'

	# shellcheck disable=SC2088 # a literal "~/" typed on the command line
	[[ ${bin:0:2} == '~/' ]] && bin=$HOME/${bin:2}
	[[ $bin == */* ]] || bin=$(type -P "$bin")
	[[ -n $bin ]] || bin=portdex
	_portdex_load "$bin" || return 0
	gspec=$_portdex_spec__global

	# Find the command, the registry in use, and whether the previous
	# word is an option waiting for its value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -z $cmd && $w == --* && $w != *=* ]] &&
		    awk -v o="$w" '$1 == o && $2 != "-" { f = 1 } END { exit !f }' \
		    <<<"$gspec"; then
			# a global option's value is not the command
			[[ $w == --db ]] && db=${COMP_WORDS[i + 1]}
			i=$((i + 1))
			continue
		fi
		if [[ -z $cmd && $w != -* ]]; then
			if [[ $w == [0-9]* ]]; then
				cmd=show
			else
				cmd=$w
			fi
			continue
		fi
		[[ $w == -- ]] && continue
		if [[ $w == --db ]]; then
			db=${COMP_WORDS[i + 1]}
		elif [[ $w == --db=* ]]; then
			db=${w#--db=}
		fi
	done
	spec=
	[[ -n $cmd ]] && eval "spec=\${_portdex_spec_${cmd//[^a-z]/_}-}"

	if ((COMP_CWORD > 1)); then
		opt=${COMP_WORDS[COMP_CWORD - 1]}
		if [[ $opt == -* ]]; then
			# a value, if any line gives the option one ("--format
			# prometheus" is a flag's line, "--format FMT" a value's)
			ph=$(awk -v o="$opt" '$1 == o && $2 != "-" { print $2; exit }' \
			    <<<"$spec"$'\n'"$gspec")
			if [[ -n $ph && $ph != - ]]; then
				_portdex_value "$opt" "$ph" "$cur" "$cmd"
				return 0
			fi
		fi
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(awk '$1 != "@" && !seen[$1]++ \
		    { print $1 }' <<<"$spec"$'\n'"$gspec")" -- "$cur"))
		return 0
	fi
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$_portdex_cmds" -- "$cur"))
		return 0
	fi
	# Operands: what the usage names them decides.
	case $(awk '$1 == "@" { print $2 }' <<<"$spec") in
	*NAME* | *WORDS*)
		[[ $cur == [0-9]* ]] && return 0
		COMPREPLY=($(_portdex_service_names "$db" "$cur"))
		;;
	*HOST*)
		COMPREPLY=($(compgen -A hostname -- "$cur"))
		;;
	esac
	return 0
}
complete -F _portdex portdex
