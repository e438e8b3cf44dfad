// bench_peers_test.cpp
#include <gtest/gtest.h>
