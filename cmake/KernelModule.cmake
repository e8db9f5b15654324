# Kernel modules, built once per kernel of the test matrix (scripts/kernels).
#
# sgtrace_find_kernels() fills SGTRACE_KERNELS with the kernels modules are built for:
#   -DKDIR=<build tree>       that tree alone, as kernel "local";
#   otherwise                 every kernel of the matrix that scripts/setup set up
#                             (scripts/kernel-matrix), or, on a machine without the matrix, the
#                             running kernel's /lib/modules/<release>/build as "local";
#   -DSGTRACE_BUILD_KMOD=OFF  none.
# For each kernel K: SGTRACE_KERNEL_<K>_KDIR, _ROOT (a build root to chroot into, or empty),
# _METHODS (attach methods it offers) and _NVME_SG, where K has dots as underscores.
#
# add_kernel_module(<name> SOURCES <file>... [INCLUDES <dir>...]) builds <name>.ko for every
# kernel into ${CMAKE_BINARY_DIR}/ko/<kernel>/<name>.ko (where tests/vm/run takes them from).
# Kbuild wants to own its directory, so the sources are copied to a private folder and built
# there with `make -C $KDIR M=<folder>` (the falcosecurity/libs way); for a kernel with a build
# root, that folder lies inside the root and make runs chrooted (scripts/in-root).

function(sgtrace_kernel_var out kernel)
  string(REPLACE "." "_" v "${kernel}")
  set(${out} ${v} PARENT_SCOPE)
endfunction()

macro(sgtrace_find_kernels)
  option(SGTRACE_BUILD_KMOD "Build the sgkm kernel module (and the test modules)" ON)
  set(KDIR "" CACHE PATH
    "Kernel build tree to build modules against instead of the test matrix (e.g. /lib/modules/<release>/build)")
  set(SGTRACE_KERNELS "")
  if(NOT SGTRACE_BUILD_KMOD)
    message(STATUS "sgkm: not built (SGTRACE_BUILD_KMOD=OFF)")
  elseif(KDIR)
    if(NOT EXISTS "${KDIR}/Makefile")
      message(FATAL_ERROR "KDIR=${KDIR} is not a kernel build tree (no Makefile)")
    endif()
    set(SGTRACE_KERNELS local)
    set(SGTRACE_KERNEL_local_KDIR ${KDIR})
    set(SGTRACE_KERNEL_local_ROOT "")
  else()
    execute_process(COMMAND ${CMAKE_SOURCE_DIR}/scripts/kernel-matrix
      OUTPUT_VARIABLE matrix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE matrix_result)
    if(NOT matrix_result EQUAL 0)
      message(FATAL_ERROR "scripts/kernel-matrix failed")
    endif()
    string(REPLACE "\n" ";" matrix_lines "${matrix}")
    execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
    foreach(line IN LISTS matrix_lines)
      if(line STREQUAL "")
        continue()
      endif()
      string(REPLACE "|" ";" f "${line}")
      list(GET f 0 k)
      list(GET f 2 kdir)
      list(GET f 3 root)
      list(GET f 4 methods)
      list(GET f 5 nvme_sg)
      if(NOT root STREQUAL "" AND NOT uid STREQUAL "0")
        message(STATUS "sgkm: kernel ${k} skipped: its modules are built chrooted into ${root}, which needs root")
        continue()
      endif()
      sgtrace_kernel_var(kv ${k})
      list(APPEND SGTRACE_KERNELS ${k})
      set(SGTRACE_KERNEL_${kv}_KDIR ${kdir})
      set(SGTRACE_KERNEL_${kv}_ROOT "${root}")
      string(REPLACE "," ";" SGTRACE_KERNEL_${kv}_METHODS "${methods}")
      set(SGTRACE_KERNEL_${kv}_NVME_SG ${nvme_sg})
    endforeach()
    if(NOT SGTRACE_KERNELS)
      execute_process(COMMAND uname -r OUTPUT_VARIABLE release OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(EXISTS "/lib/modules/${release}/build/Makefile")
        set(SGTRACE_KERNELS local)
        set(SGTRACE_KERNEL_local_KDIR /lib/modules/${release}/build)
        set(SGTRACE_KERNEL_local_ROOT "")
      else()
        message(STATUS "sgkm: not built: no kernel build tree (run scripts/setup for the test matrix, "
          "install linux-headers-${release}, or pass -DKDIR=...)")
      endif()
    endif()
  endif()
  foreach(k IN LISTS SGTRACE_KERNELS)
    sgtrace_kernel_var(kv ${k})
    if(SGTRACE_KERNEL_${kv}_ROOT STREQUAL "")
      message(STATUS "sgkm: kernel ${k}: ${SGTRACE_KERNEL_${kv}_KDIR}")
    else()
      message(STATUS "sgkm: kernel ${k}: ${SGTRACE_KERNEL_${kv}_KDIR} in ${SGTRACE_KERNEL_${kv}_ROOT}")
    endif()
  endforeach()
endmacro()

function(add_kernel_module name)
  cmake_parse_arguments(KM "" "" "SOURCES;INCLUDES" ${ARGN})
  set(abs_sources)
  set(objs)
  foreach(src IN LISTS KM_SOURCES)
    get_filename_component(abs ${src} ABSOLUTE)
    list(APPEND abs_sources ${abs})
    get_filename_component(base ${src} NAME)
    if(base MATCHES "\\.c$")
      string(REGEX REPLACE "\\.c$" ".o" obj ${base})
      list(APPEND objs ${obj})
    endif()
  endforeach()
  list(JOIN objs " " objs_str)
  # A module built from one file of its own name must not list itself as its part.
  if(objs_str STREQUAL "${name}.o")
    set(parts "")
  else()
    set(parts "${name}-y := ${objs_str}\n")
  endif()
  # The headers of each include folder (headers_<i>), globbed once for every kernel.
  set(inc_headers)
  set(i 0)
  foreach(inc IN LISTS KM_INCLUDES)
    file(GLOB headers_${i} ${inc}/*.h)
    list(APPEND inc_headers ${headers_${i}})
    math(EXPR i "${i} + 1")
  endforeach()
  list(LENGTH KM_INCLUDES n_incs)
  string(MD5 tree_id "${CMAKE_CURRENT_BINARY_DIR}")
  set(kos)
  foreach(k IN LISTS SGTRACE_KERNELS)
    sgtrace_kernel_var(kv ${k})
    set(kdir ${SGTRACE_KERNEL_${kv}_KDIR})
    set(root "${SGTRACE_KERNEL_${kv}_ROOT}")
    if(root STREQUAL "")
      set(build_dir ${CMAKE_CURRENT_BINARY_DIR}/kbuild/${k}/${name})
      set(host_dir ${build_dir})
      set(run_make make)
    else()
      # Seen from inside the root; tree_id keeps two build trees of one machine apart.
      set(build_dir /var/tmp/sgtrace-kbuild/${tree_id}/${k}/${name})
      set(host_dir ${root}${build_dir})
      set(run_make ${CMAKE_SOURCE_DIR}/scripts/in-root ${root} make)
    endif()
    # Include folders are copied in too (a build root cannot see this tree), one folder each so
    # that same-named headers keep their search order.
    set(ccflags "-Werror")
    set(copy_incs)
    if(n_incs GREATER 0)
      math(EXPR last "${n_incs} - 1")
      foreach(i RANGE ${last})
        string(APPEND ccflags " -I${build_dir}/include${i}")
        if(headers_${i})
          list(APPEND copy_incs COMMAND ${CMAKE_COMMAND} -E make_directory ${host_dir}/include${i}
            COMMAND ${CMAKE_COMMAND} -E copy_if_different ${headers_${i}} ${host_dir}/include${i}/)
        endif()
      endforeach()
    endif()
    file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/kbuild/${k}/${name}.Kbuild CONTENT
      "obj-m := ${name}.o\n${parts}ccflags-y := ${ccflags}\n")
    set(ko ${CMAKE_BINARY_DIR}/ko/${k}/${name}.ko)
    add_custom_command(
      OUTPUT ${ko}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${host_dir}
      COMMAND ${CMAKE_COMMAND} -E copy_if_different ${abs_sources} ${host_dir}/
      COMMAND ${CMAKE_COMMAND} -E copy_if_different ${CMAKE_CURRENT_BINARY_DIR}/kbuild/${k}/${name}.Kbuild
        ${host_dir}/Kbuild
      ${copy_incs}
      COMMAND ${run_make} -C ${kdir} M=${build_dir} modules
      COMMAND ${CMAKE_COMMAND} -E copy ${host_dir}/${name}.ko ${ko}
      DEPENDS ${abs_sources} ${inc_headers} ${CMAKE_CURRENT_BINARY_DIR}/kbuild/${k}/${name}.Kbuild
      COMMENT "Building kernel module ${name}.ko for kernel ${k} against ${kdir}"
      VERBATIM)
    list(APPEND kos ${ko})
  endforeach()
  if(kos)
    add_custom_target(${name}_ko ALL DEPENDS ${kos})
  endif()
endfunction()
