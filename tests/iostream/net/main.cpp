// doctest main for the iostream suite (streams on sockets, TLS, resolver, client, server, protocols).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
