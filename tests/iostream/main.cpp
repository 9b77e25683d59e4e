// doctest main for the iostream_parts suite (Buffer, WriteQueue, regex searches, TLS engine).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
