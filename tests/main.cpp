// doctest's main. Run `build/ember-tests --help` for filters (-tc=, -ts=, ...).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
