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

# squall_module(<name> SOURCES ... DEPS ... [PRIVATE_DEPS ...])
# Defines library target squall_<name> with alias squall::<name>. Headers are included as
# "squall/<module>/<header>.hpp" everywhere, in the tree and installed: include/ is the one include root
# (in the tree include/squall/<module> links to the module's folder).
function(squall_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(squall_${name} ${ARG_SOURCES})
  add_library(squall::${name} ALIAS squall_${name})
  target_include_directories(squall_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  target_link_libraries(squall_${name} PUBLIC ${ARG_DEPS} PRIVATE squall_options ${ARG_PRIVATE_DEPS})
  set_target_properties(squall_${name} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME squall_${name})
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
