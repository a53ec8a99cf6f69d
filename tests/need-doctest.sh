#!/bin/sh
# Makes sure doctest's header is there before the tests build.
# As root on Debian it installs doctest-dev; otherwise it says exactly what to run.
for dir in /usr/include /usr/local/include; do
  [ -f "$dir/doctest/doctest.h" ] && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "doctest missing: installing doctest-dev" >&2
  apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 doctest-dev >/dev/null ||
    { apt-get update -qq && apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 doctest-dev >/dev/null; } ||
    { echo "could not install doctest-dev" >&2; exit 1; }
  exit 0
fi
echo "The tests need doctest (header doctest/doctest.h). On Debian/Ubuntu run:" >&2
echo "    sudo apt-get install doctest-dev" >&2
echo "or put doctest.h from https://github.com/doctest/doctest under /usr/local/include/doctest/." >&2
exit 1
