// bench_lab_test.cpp
#include <gtest/gtest.h>
