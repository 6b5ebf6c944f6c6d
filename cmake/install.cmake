# cmake/install.cmake - what `cmake --install` puts where: the tool, the
# library (static and shared) with its headers and pkg-config file, the man
# pages, the shell completions, the systemd unit, the curated data and a
# registry database built at install time by the portdex just built.
# Included at the end of the top-level CMakeLists.txt, after the targets
# portdex, portdex_static and portdex_shared and PDX_DATADIR are defined.
#
# Everything honours DESTDIR and the prefix.  The program looks for its data
# in PDX_DATADIR, fixed when configuring (CMAKE_INSTALL_PREFIX), so an
# install with a different `--prefix` works only with PORTDEX_DB and
# PORTDEX_DATA set; such an install says so.

include(GNUInstallDirs)

option(PDX_INSTALL_REGISTRY
  "Build the default registry database at install time" ON)
set(PDX_REGISTRY_FROM "" CACHE FILEPATH
  "IANA CSV to build the installed registry from (empty: the services(5) file and nmap data of the building machine)")
set(PDX_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
  "Where the systemd unit goes, relative to the prefix")
set(PDX_BASH_COMPLETIONDIR
  "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" CACHE STRING
  "Where the bash completion goes, relative to the prefix")
set(PDX_ZSH_COMPLETIONDIR "${CMAKE_INSTALL_DATADIR}/zsh/site-functions"
  CACHE STRING "Where the zsh completion goes, relative to the prefix")

set(_pdx_src "${PROJECT_SOURCE_DIR}")
set(_pdx_bin "${PROJECT_BINARY_DIR}/pkg")
file(MAKE_DIRECTORY "${_pdx_bin}")
# The installed data directory, relative to the prefix (as install wants it).
set(_pdx_datadir_rel "${CMAKE_INSTALL_DATADIR}/portdex")

# ---- the tool and the library ---------------------------------------------
install(TARGETS portdex RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS portdex_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS portdex_shared
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES "${_pdx_src}/include/portdex.h"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY "${_pdx_src}/include/portdex/"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/portdex
  FILES_MATCHING PATTERN "*.h")

# pkg-config: paths under ${prefix} when the GNU dirs are relative.
foreach(_d LIBDIR INCLUDEDIR DATADIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_d}}")
    set(PDX_PC_${_d} "${CMAKE_INSTALL_${_d}}")
  else()
    set(PDX_PC_${_d} "\${prefix}/${CMAKE_INSTALL_${_d}}")
  endif()
endforeach()
configure_file("${_pdx_src}/portdex.pc.in" "${_pdx_bin}/portdex.pc" @ONLY)
install(FILES "${_pdx_bin}/portdex.pc"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---- man pages: the default data directory replaced by the real one --------
foreach(_page portdex.1 portdex-db.5)
  set(_in "${_pdx_src}/docs/${_page}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_in}")
  file(READ "${_in}" _text)
  string(REPLACE "/usr/local/share/portdex" "${PDX_DATADIR}" _text "${_text}")
  file(WRITE "${_pdx_bin}/${_page}" "${_text}")
  string(REGEX REPLACE "^.*\\." "" _sect "${_page}")
  install(FILES "${_pdx_bin}/${_page}"
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_sect})
endforeach()

# ---- completions, curated data ---------------------------------------------
install(FILES "${_pdx_src}/completions/portdex.bash"
  DESTINATION ${PDX_BASH_COMPLETIONDIR} RENAME portdex)
install(FILES "${_pdx_src}/completions/_portdex"
  DESTINATION ${PDX_ZSH_COMPLETIONDIR})
install(FILES "${_pdx_src}/data/related.tsv"
  DESTINATION ${_pdx_datadir_rel})
install(DIRECTORY "${_pdx_src}/data/uses/"
  DESTINATION ${_pdx_datadir_rel}/uses FILES_MATCHING PATTERN "*.tsv")
install(DIRECTORY "${_pdx_src}/data/iana/"
  DESTINATION ${_pdx_datadir_rel}/iana)

# ---- install-time steps ----------------------------------------------------
# Written as a template: @VAR@ are filled in now, ${VAR} are the install
# run's own (CMAKE_INSTALL_PREFIX is --prefix's, file(INSTALL) adds
# DESTDIR), $<...> are generator expressions.
set(_pdx_install_code [=[
set(_pdx_conf_prefix "@CMAKE_INSTALL_PREFIX@")
if(NOT "${CMAKE_INSTALL_PREFIX}" STREQUAL "${_pdx_conf_prefix}")
  message(WARNING "portdex was configured for ${_pdx_conf_prefix} but is "
    "being installed into ${CMAKE_INSTALL_PREFIX}: the installed portdex "
    "will look for its registry in @PDX_DATADIR@ (set PORTDEX_DB and "
    "PORTDEX_DATA, or configure with -DCMAKE_INSTALL_PREFIX=...)")
endif()

# The systemd unit, when deploy/ has one, with the installed bin directory
# in place of the placeholder CMAKE_INSTALL_FULL_BINDIR between at-signs.
set(_pdx_unit "@_pdx_src@/deploy/portdex-serve.service")
if(EXISTS "${_pdx_unit}")
  file(READ "${_pdx_unit}" _pdx_text)
  set(_pdx_at "@")	# so that this line survives string(CONFIGURE)
  string(REPLACE "${_pdx_at}CMAKE_INSTALL_FULL_BINDIR${_pdx_at}"
    "@CMAKE_INSTALL_FULL_BINDIR@" _pdx_text "${_pdx_text}")
  file(WRITE "@_pdx_bin@/portdex-serve.service" "${_pdx_text}")
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/@PDX_SYSTEMD_UNITDIR@"
    TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES "@_pdx_bin@/portdex-serve.service")
endif()

# The default registry, built by the portdex just built from the curated
# data of this tree and the sources of this machine, then installed.
if("@PDX_INSTALL_REGISTRY@" STREQUAL "ON")
  set(_pdx_stage "@_pdx_bin@/registry")
  file(REMOVE_RECURSE "${_pdx_stage}")
  file(MAKE_DIRECTORY "${_pdx_stage}")
  set(_pdx_args update --db "${_pdx_stage}/registry.db"
    --knowledge "@_pdx_src@/data")
  if(NOT "@PDX_REGISTRY_FROM@" STREQUAL "")
    list(APPEND _pdx_args --from "@PDX_REGISTRY_FROM@")
  endif()
  list(JOIN _pdx_args " " _pdx_shown)
  message(STATUS "Building the registry: portdex ${_pdx_shown}")
  # A clean environment: the user's own registry and data must not leak in.
  execute_process(
    COMMAND "@CMAKE_COMMAND@" -E env --unset=PORTDEX_DB
      --unset=PORTDEX_DATA --unset=PORTDEX_STATE
      "$<TARGET_FILE:portdex>" ${_pdx_args}
    RESULT_VARIABLE _pdx_rc
    OUTPUT_FILE "${_pdx_stage}/update.log"
    ERROR_VARIABLE _pdx_err)
  if(NOT _pdx_rc EQUAL 0)
    message(FATAL_ERROR "portdex update failed (${_pdx_rc}): ${_pdx_err}")
  endif()
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/@_pdx_datadir_rel@"
    TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES "${_pdx_stage}/registry.db" "${_pdx_stage}/registry.db.brief")
endif()
]=])
if(CMAKE_CROSSCOMPILING AND PDX_INSTALL_REGISTRY)
  message(STATUS "portdex: cross-compiling, so no registry is built at "
    "install time (run 'portdex update' on the target)")
  set(PDX_INSTALL_REGISTRY OFF)
endif()
# compared as a string in the generated script (which runs without policies)
if(PDX_INSTALL_REGISTRY)
  set(PDX_INSTALL_REGISTRY ON)
else()
  set(PDX_INSTALL_REGISTRY OFF)
endif()
string(CONFIGURE "${_pdx_install_code}" _pdx_install_code @ONLY)
install(CODE "${_pdx_install_code}")
