# The shipped unit under a real systemd (PID 1 of a qemu guest): start,
# reload, certificate renewal, watchdog, stop, exposure, power cuts.
# Skips (77) with a message where the machine cannot run it and in
# sanitizer builds.  The image is cached in $FB_VM_CACHE.
TESTS += tests/vm/test_systemd
dist_noinst_SCRIPTS += tests/vm/test_systemd tests/vm/mkimage
EXTRA_DIST += tests/vm/fbvm.py tests/vm/fbsystemd.py
