# tools/ files; included from the top Makefile.am.
