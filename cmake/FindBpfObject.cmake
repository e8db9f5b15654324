# FindBpfObject: compile BPF programs with clang and wrap them in bpftool skeletons.
#
# Provides bpf_object(<name> <X.bpf.c> [DEPENDS <header>...]):
#   compiles <X.bpf.c> with clang -target bpf (CO-RE, against the pinned vmlinux.h) into
#   <name>.bpf.o, generates <name>.skel.h with `bpftool gen skeleton`, and defines the INTERFACE
#   library <name>_skel whose include directory holds the skeleton and which links libbpf.
#   A user program includes "<name>.skel.h" and links <name>_skel.
#
# Inputs: BPFOBJECT_CLANG_EXE, BPFOBJECT_BPFTOOL_EXE, BPFOBJECT_VMLINUX_H (folder of vmlinux.h).

find_program(BPFOBJECT_CLANG_EXE NAMES clang clang-14 clang-15 clang-16 REQUIRED)
find_program(BPFOBJECT_BPFTOOL_EXE NAMES bpftool PATHS /usr/sbin REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf>=1.0)

if(NOT BPFOBJECT_VMLINUX_H)
  message(FATAL_ERROR "BPFOBJECT_VMLINUX_H must name the folder that holds vmlinux.h")
endif()

# The system headers clang must see for the BPF target (asm/types.h and friends), as
# libbpf-bootstrap discovers them: ask the host compiler for its default include path.
execute_process(COMMAND ${BPFOBJECT_CLANG_EXE} -v -E - INPUT_FILE /dev/null
  OUTPUT_QUIET ERROR_VARIABLE clang_v)
string(REGEX MATCH "#include <...> search starts here:\n(.*)End of search list" _ "${clang_v}")
string(REGEX MATCHALL " /[^\n]+" clang_sys_includes "${CMAKE_MATCH_1}")
set(BPFOBJECT_SYS_INCLUDES)
foreach(dir IN LISTS clang_sys_includes)
  string(STRIP "${dir}" dir)
  list(APPEND BPFOBJECT_SYS_INCLUDES -idirafter ${dir})
endforeach()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
  set(BPFOBJECT_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPFOBJECT_ARCH arm64)
else()
  message(FATAL_ERROR "unsupported architecture ${CMAKE_SYSTEM_PROCESSOR}")
endif()

function(bpf_object name input)
  cmake_parse_arguments(BO "" "" "DEPENDS" ${ARGN})
  get_filename_component(src ${input} ABSOLUTE)
  get_filename_component(src_dir ${src} DIRECTORY)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(skel_dir ${CMAKE_CURRENT_BINARY_DIR}/skel)
  set(skel ${skel_dir}/${name}.skel.h)
  # -mcpu=v3: 32-bit sub-registers and the atomic instructions, compare-and-swap among them
  # (kernel 5.12+); sgtrace's minimum is 5.17 (bpf_loop).
  add_custom_command(OUTPUT ${obj}
    COMMAND ${BPFOBJECT_CLANG_EXE} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${BPFOBJECT_ARCH}
            -Wall -Werror ${BPFOBJECT_SYS_INCLUDES}
            -I${BPFOBJECT_VMLINUX_H} -I${src_dir} -c ${src} -o ${obj}
    DEPENDS ${src} ${BO_DEPENDS} ${BPFOBJECT_VMLINUX_H}/vmlinux.h
    COMMENT "[clang] building BPF object ${name}.bpf.o"
    VERBATIM)
  add_custom_command(OUTPUT ${skel}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${skel_dir}
    COMMAND sh -c "\"$0\" gen skeleton \"$1\" name \"$2\" > \"$3.tmp\" && mv \"$3.tmp\" \"$3\""
            ${BPFOBJECT_BPFTOOL_EXE} ${obj} ${name} ${skel}
    DEPENDS ${obj}
    COMMENT "[skel] generating ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  target_include_directories(${name}_skel INTERFACE ${skel_dir} ${src_dir})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
  add_dependencies(${name}_skel ${name}_skel_gen)
  set_property(TARGET ${name}_skel PROPERTY BPF_OBJECT_FILE ${obj})
endfunction()
