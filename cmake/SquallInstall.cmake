# cmake --install: headers, libraries, the CMake package (find_package(squall), cmake/squallConfig.cmake.in)
# and squall.pc (cmake/squall.pc.in). Both are relocatable: they find the prefix from where they are.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(squall_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/squall)

# Headers. Public headers are the modules' *.hpp; what sits in a detail/ folder is internal and is installed
# only when a public header includes it (amqp/spec.hpp needs amqp/detail/wire.hpp), found by scanning the
# #include lines, so the installed tree always compiles and never ships an unused internal header.
set(squall_public_headers "")
foreach(dir ${SQUALL_MODULES})
  file(GLOB_RECURSE headers RELATIVE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/${dir}/*.hpp)
  foreach(h ${headers})
    if(NOT h MATCHES "(^|/)detail/")
      list(APPEND squall_public_headers ${h})
    endif()
  endforeach()
endforeach()
set(squall_detail_headers "")
set(todo ${squall_public_headers})
while(todo)
  list(POP_FRONT todo h)
  file(STRINGS ${PROJECT_SOURCE_DIR}/${h} includes REGEX "^#include \"squall/.*detail/.*\\.hpp\"")
  foreach(line ${includes})
    string(REGEX REPLACE "^#include \"squall/(.*)\".*" "\\1" d "${line}")
    if(NOT d IN_LIST squall_detail_headers)
      list(APPEND squall_detail_headers ${d})
      list(APPEND todo ${d})
    endif()
  endforeach()
endwhile()
foreach(h ${squall_public_headers} ${squall_detail_headers})
  get_filename_component(sub ${h} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/squall/${sub})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/include/squall/squall.hpp ${PROJECT_SOURCE_DIR}/include/squall/testing.hpp
              ${PROJECT_BINARY_DIR}/include/squall/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/squall)

# Libraries.
set(squall_targets squall)
foreach(m ${squall_modules})
  list(APPEND squall_targets squall_${m})
endforeach()
install(TARGETS ${squall_targets} EXPORT squallTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT squallTargets NAMESPACE squall:: DESTINATION ${squall_cmake_dir})

# The CMake package: squallConfig.cmake finds what the libraries link (cmake/SquallDependencies.cmake,
# installed beside it) and checks the requested components. Version policy: before 1.0 a minor release
# may break the API and ABI, so find_package(squall 0.1) accepts 0.1.x only; from 1.0 on, any 1.y >= the
# requested version (SameMajorVersion). The shared libraries' SONAME follows the same rule.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(squall_compatibility SameMinorVersion)
else()
  set(squall_compatibility SameMajorVersion)
endif()
if(BUILD_SHARED_LIBS)
  set(SQUALL_CONFIG_SHARED ON)
else()
  set(SQUALL_CONFIG_SHARED OFF)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/squallConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/squallConfig.cmake INSTALL_DESTINATION ${squall_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/squallConfigVersion.cmake
                                 COMPATIBILITY ${squall_compatibility})
install(FILES ${PROJECT_BINARY_DIR}/squallConfig.cmake ${PROJECT_BINARY_DIR}/squallConfigVersion.cmake
        DESTINATION ${squall_cmake_dir})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/SquallDependencies.cmake DESTINATION ${squall_cmake_dir}
        RENAME squallDependencies.cmake)

# squall.pc. Static libraries need their dependencies in every link, so a static install lists them in
# Requires (both `pkg-config --libs` and `--libs --static` work); libsquall_*.so carry their own, so a
# shared install lists them in Requires.private.
set(squall_pc_libs "")
set(squall_pc_requires "")
foreach(m ${squall_modules})
  string(PREPEND squall_pc_libs "-lsquall_${m} ")
endforeach()
if("ioloop" IN_LIST squall_modules)
  list(APPEND squall_pc_requires liburing)
endif()
if("iostream" IN_LIST squall_modules)
  list(APPEND squall_pc_requires libpcre2-8 "openssl >= 3")
endif()
if("http" IN_LIST squall_modules)
  list(APPEND squall_pc_requires libnghttp2)
endif()
if("http" IN_LIST squall_modules OR "messaging" IN_LIST squall_modules OR "websocket" IN_LIST squall_modules)
  list(APPEND squall_pc_requires zlib)
endif()
list(JOIN squall_pc_requires ", " squall_pc_requires)
if(BUILD_SHARED_LIBS)
  set(SQUALL_PC_REQUIRES "")
  set(SQUALL_PC_REQUIRES_PRIVATE "${squall_pc_requires}")
else()
  set(SQUALL_PC_REQUIRES "${squall_pc_requires}")
  set(SQUALL_PC_REQUIRES_PRIVATE "")
endif()
set(SQUALL_PC_LIBS "${squall_pc_libs}-pthread")
# prefix relative to the .pc file's folder when the install dirs are relative (the default), else absolute.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SQUALL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(SQUALL_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(SQUALL_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH up /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
  set(SQUALL_PC_PREFIX "\${pcfiledir}/${up}")
  set(SQUALL_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(SQUALL_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/squall.pc.in ${PROJECT_BINARY_DIR}/squall.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/squall.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
