// header_cxx.cpp: the public header compiles as C++ too (its extern "C"
// block, no C-only constructs), with every declaration checked by type:
// the C self-test (tests/headers/header_test.c) compiled as C++.
#include "../headers/header_test.c"
