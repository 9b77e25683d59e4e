# cmake --install exports squall::squall for find_package(squall) and writes squall.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(squall_modules GLOBAL PROPERTY SQUALL_MODULES)
foreach(m ${squall_modules})
  string(REPLACE "squall_" "" dir ${m})
  if(dir STREQUAL "http")
    set(dir httpclient)
  endif()
  if(dir STREQUAL "messaging")
    continue()  # amqp/messaging: installed with amqp/
  endif()
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/squall/${dir}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/include/squall/squall.hpp ${PROJECT_SOURCE_DIR}/include/squall/testing.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/squall)
install(TARGETS ${squall_modules} squall squall_options EXPORT squallTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT squallTargets NAMESPACE squall:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/squall)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/squallConfig.cmake.in
     "@PACKAGE_INIT@\ninclude(CMakeFindDependencyMacro)\nfind_dependency(Threads)\n"
     "include(\"\${CMAKE_CURRENT_LIST_DIR}/squallTargets.cmake\")\n")
configure_package_config_file(${CMAKE_CURRENT_BINARY_DIR}/squallConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/squallConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/squall)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/squallConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/squallConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/squallConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/squall)
set(squall_pc_libs "")
foreach(m ${squall_modules})
  string(PREPEND squall_pc_libs "-l${m} ")
endforeach()
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/squall.pc
     "prefix=${CMAKE_INSTALL_PREFIX}\nlibdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}\n"
     "includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}\n\nName: squall\n"
     "Description: C++20 coroutine async network clients (HTTP/1.1, AMQP 0-9-1)\nVersion: ${PROJECT_VERSION}\n"
     "Requires.private: liburing libpcre2-8 openssl zlib libnghttp2\n"
     "Libs: -L\${libdir} ${squall_pc_libs}-lpthread\nCflags: -std=c++20 -I\${includedir}\n")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/squall.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
