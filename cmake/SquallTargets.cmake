# Common compile settings for every squall target.

add_library(squall_options INTERFACE)
target_compile_options(squall_options INTERFACE -Wall -Wextra $<$<BOOL:${SQUALL_WERROR}>:-Werror>)
# GCC 12 at -O3 reports -Wrestrict false positives inside libstdc++'s std::string (GCC bug 105329);
# the release preset would otherwise fail on correct code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(squall_options INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
if(SQUALL_SANITIZE)
  target_compile_options(squall_options INTERFACE -fsanitize=${SQUALL_SANITIZE} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(squall_options INTERFACE -fsanitize=${SQUALL_SANITIZE})
  if(SQUALL_SANITIZE MATCHES "address")
    target_compile_definitions(squall_options INTERFACE SQUALL_ASAN=1)
  endif()
  if(SQUALL_SANITIZE MATCHES "thread")
    target_compile_definitions(squall_options INTERFACE SQUALL_TSAN=1)
  endif()
endif()

# squall_module(<name> SOURCES ... DEPS ... [PRIVATE_DEPS ...] [HIDE_SYMBOLS <pattern>...])
# Defines library target squall_<name> with alias squall::<name> (static by default; shared with
# BUILD_SHARED_LIBS=ON). Headers are included as "squall/<module>/<header>.hpp" everywhere, in the tree and
# installed: include/ is the one include root (in the tree include/squall/<module> links to the module's
# folder; the generated squall/version.hpp sits in the build tree's include/).
#
# Shared libraries: file name libsquall_<name>.so.<VERSION>, SONAME libsquall_<name>.so.<SQUALL_SOVERSION>
# (MAJOR.MINOR before 1.0, MAJOR after: the ABI may change with every 0.x minor release), RUNPATH $ORIGIN
# so the libraries find each other where they are installed. Exported symbols: everything except the
# module's own internals, hidden by a linker version script: HIDE_SYMBOLS takes glob patterns, C++ ones
# (containing "::", matched against demangled names, e.g. squall::amqp::detail::*) and C ones (foo_*).
# squall::detail itself stays exported: coro, ioloop and iostream share it and the modules above call
# into it. Nothing under a detail namespace is API, exported or not.
function(squall_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS;HIDE_SYMBOLS" ${ARGN})
  add_library(squall_${name} ${ARG_SOURCES})
  add_library(squall::${name} ALIAS squall_${name})
  target_include_directories(squall_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  target_compile_features(squall_${name} PUBLIC cxx_std_20)
  target_link_libraries(squall_${name} PUBLIC ${ARG_DEPS} PRIVATE $<BUILD_INTERFACE:squall_options>
                        ${ARG_PRIVATE_DEPS})
  set_target_properties(squall_${name} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME squall_${name})
  get_target_property(type squall_${name} TYPE)
  if(type STREQUAL "SHARED_LIBRARY")
    set_target_properties(squall_${name} PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${SQUALL_SOVERSION}
                                                    INSTALL_RPATH "$ORIGIN")
    if(ARG_HIDE_SYMBOLS AND SQUALL_HIDE_INTERNALS)
      set(c_patterns "")
      set(cxx_patterns "")
      foreach(p ${ARG_HIDE_SYMBOLS})
        if(p MATCHES "::")
          string(APPEND cxx_patterns "      ${p};\n")
        else()
          string(APPEND c_patterns "    ${p};\n")
        endif()
      endforeach()
      set(script ${PROJECT_BINARY_DIR}/squall_${name}.map)
      file(WRITE ${script} "{\n  global: *;\n  local:\n${c_patterns}    extern \"C++\" {\n${cxx_patterns}    };\n};\n")
      target_link_options(squall_${name} PRIVATE "LINKER:--version-script=${script}")
      set_property(TARGET squall_${name} APPEND PROPERTY LINK_DEPENDS ${script})
    endif()
  endif()
  set_property(GLOBAL APPEND PROPERTY SQUALL_MODULES squall_${name})
endfunction()

# squall_test_suite(<name> LABEL <label> SOURCES ... LIBS ...)
# One doctest executable per module; ctest runs it as one test carrying the module's label.
function(squall_test_suite name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(test_${name} ${ARG_SOURCES})
  target_link_libraries(test_${name} PRIVATE squall_options squall_testing ${ARG_LIBS})
  add_test(NAME ${name} COMMAND test_${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT})
endfunction()

# add_subdirectory for every folder below the current source folder that has a CMakeLists.txt (examples/,
# bench/: each folder decides for itself whether the modules it needs are built). A macro, so the folders
# are added in the caller's scope.
macro(squall_add_subfolders)
  file(GLOB _squall_subfolders LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(_squall_dir ${_squall_subfolders})
    if(IS_DIRECTORY ${_squall_dir} AND EXISTS ${_squall_dir}/CMakeLists.txt)
      add_subdirectory(${_squall_dir})
    endif()
  endforeach()
endmacro()
