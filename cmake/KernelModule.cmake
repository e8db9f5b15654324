# add_kernel_module(<name> SOURCES <file>... [INCLUDES <dir>...])
#
# Builds <name>.ko with Kbuild against ${KDIR}. Kbuild wants to own its directory, so the sources
# are copied to a private folder in the binary dir and built there with `make -C $KDIR M=<folder>`
# (the falcosecurity/libs way). The module is part of ALL and lands at
# ${CMAKE_CURRENT_BINARY_DIR}/<name>.ko; the target <name>_ko names it.
function(add_kernel_module name)
  cmake_parse_arguments(KM "" "" "SOURCES;INCLUDES" ${ARGN})
  if(NOT EXISTS "${KDIR}/Makefile")
    message(FATAL_ERROR "KDIR=${KDIR} is not a kernel build tree: run scripts/setup, or pass -DKDIR=...")
  endif()
  set(kbuild_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}.kbuild)
  set(copied)
  set(objs)
  foreach(src IN LISTS KM_SOURCES)
    get_filename_component(base ${src} NAME)
    list(APPEND copied ${kbuild_dir}/${base})
    if(base MATCHES "\\.c$")
      string(REGEX REPLACE "\\.c$" ".o" obj ${base})
      list(APPEND objs ${obj})
    endif()
  endforeach()
  list(JOIN objs " " objs_str)
  set(ccflags "-Werror")
  foreach(inc IN LISTS KM_INCLUDES)
    string(APPEND ccflags " -I${inc}")
  endforeach()
  # A module built from one file of its own name must not list itself as its part.
  if(objs_str STREQUAL "${name}.o")
    set(parts "")
  else()
    set(parts "${name}-y := ${objs_str}\n")
  endif()
  file(GENERATE OUTPUT ${kbuild_dir}/Kbuild CONTENT
    "obj-m := ${name}.o\n${parts}ccflags-y := ${ccflags}\n")
  set(abs_sources)
  foreach(src IN LISTS KM_SOURCES)
    get_filename_component(abs ${src} ABSOLUTE)
    list(APPEND abs_sources ${abs})
  endforeach()
  set(deps ${abs_sources})
  foreach(inc IN LISTS KM_INCLUDES)
    file(GLOB_RECURSE inc_headers ${inc}/*.h)
    list(APPEND deps ${inc_headers})
  endforeach()
  add_custom_command(
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}.ko
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${abs_sources} ${kbuild_dir}/
    COMMAND make -C ${KDIR} M=${kbuild_dir} modules
    COMMAND ${CMAKE_COMMAND} -E copy ${kbuild_dir}/${name}.ko ${CMAKE_CURRENT_BINARY_DIR}/${name}.ko
    DEPENDS ${deps}
    COMMENT "Building kernel module ${name}.ko against ${KDIR}"
    VERBATIM)
  add_custom_target(${name}_ko ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/${name}.ko)
endfunction()
