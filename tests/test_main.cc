// Catch2 main for the kmodel unit-test binary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
