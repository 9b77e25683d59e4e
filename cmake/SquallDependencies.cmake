# The modules of squall, what each needs, and how to find the third-party libraries they link.
# Included by the build (CMakeLists.txt) and, installed, by squallConfig.cmake, so that the two find the
# same libraries under the same target names.
#
#   squall_module_closure(<out> <module>...)   the modules plus every module they need, in build order
#   squall_find_dependencies(<out> <module>...) finds what those modules link; <out> is empty, or a
#                                               message naming the first missing library and its Debian
#                                               package

# Module (component) names in build order, and the modules each one needs directly. "http" is the module
# in httpclient/ (target squall::http).
set(SQUALL_ALL_MODULES coro ioloop iostream http amqp messaging websocket)
set(_squall_needs_coro "")
set(_squall_needs_ioloop coro)
set(_squall_needs_iostream ioloop)
set(_squall_needs_http iostream)
set(_squall_needs_amqp iostream)
set(_squall_needs_messaging amqp)
set(_squall_needs_websocket http)

function(squall_module_closure out)
  set(wanted "")
  set(todo ${ARGN})
  while(todo)
    list(POP_FRONT todo m)
    if(m STREQUAL "httpclient")
      set(m http)
    endif()
    if(NOT m IN_LIST SQUALL_ALL_MODULES)
      set(${out} "" PARENT_SCOPE)
      set(SQUALL_UNKNOWN_MODULE ${m} PARENT_SCOPE)
      return()
    endif()
    if(NOT m IN_LIST wanted)
      list(APPEND wanted ${m})
      list(APPEND todo ${_squall_needs_${m}})
    endif()
  endwhile()
  set(ordered "")
  foreach(m ${SQUALL_ALL_MODULES})
    if(m IN_LIST wanted)
      list(APPEND ordered ${m})
    endif()
  endforeach()
  set(${out} ${ordered} PARENT_SCOPE)
  set(SQUALL_UNKNOWN_MODULE "" PARENT_SCOPE)
endfunction()

# pkg-config and threads are looked for here, in the includer's scope, not in the function below: their
# modules set plain variables (PKG_CONFIG_VERSION, CMAKE_THREAD_LIBS_INIT) that later pkg_check_modules
# calls and other projects' code read.
find_package(PkgConfig QUIET)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads QUIET)

# Imported targets are directory-scoped, so finding them inside a function still defines them for the
# caller's directory: Threads::Threads, PkgConfig::SQUALL_URING (liburing), OpenSSL::SSL / OpenSSL::Crypto,
# PkgConfig::SQUALL_PCRE2 (libpcre2-8), PkgConfig::SQUALL_NGHTTP2 (libnghttp2), ZLIB::ZLIB.
function(squall_find_dependencies out)
  set(mods ${ARGN})
  set(${out} "" PARENT_SCOPE)
  macro(_squall_missing what debian)
    set(${out} "squall needs ${what}: install the Debian package ${debian} (apt-get install ${debian})"
        PARENT_SCOPE)
    return()
  endmacro()
  # PkgConfig::<prefix> from the pkg-config module `module`, unless an earlier call defined it.
  macro(_squall_pkg prefix module what debian)
    if(NOT TARGET PkgConfig::${prefix})
      pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
      if(NOT ${prefix}_FOUND)
        _squall_missing("${what}" ${debian})
      endif()
    endif()
  endmacro()

  if(NOT TARGET Threads::Threads)
    _squall_missing("a POSIX threads library" libc6-dev)
  endif()
  if("ioloop" IN_LIST mods OR "iostream" IN_LIST mods OR "http" IN_LIST mods)
    if(NOT PKG_CONFIG_FOUND)
      _squall_missing("pkg-config (to find liburing, libpcre2-8 and libnghttp2)" pkg-config)
    endif()
  endif()
  if("ioloop" IN_LIST mods)
    _squall_pkg(SQUALL_URING liburing "liburing" liburing-dev)
  endif()
  if("iostream" IN_LIST mods)
    if(NOT TARGET OpenSSL::SSL)
      find_package(OpenSSL 3 QUIET)
      if(NOT OpenSSL_FOUND)
        _squall_missing("OpenSSL 3" libssl-dev)
      endif()
    endif()
    _squall_pkg(SQUALL_PCRE2 libpcre2-8 "libpcre2-8" libpcre2-dev)
  endif()
  if("http" IN_LIST mods)
    _squall_pkg(SQUALL_NGHTTP2 libnghttp2 "libnghttp2" libnghttp2-dev)
  endif()
  if(("http" IN_LIST mods OR "messaging" IN_LIST mods OR "websocket" IN_LIST mods) AND NOT TARGET ZLIB::ZLIB)
    find_package(ZLIB QUIET)
    if(NOT ZLIB_FOUND)
      _squall_missing("zlib" zlib1g-dev)
    endif()
  endif()
endfunction()
