# SPDX-License-Identifier: GPL-2.0
# Appended to a kernel's tools/testing/selftests/kvm Makefile
# ("make -f Makefile -f ours.mk") so that our selftests/*.c build with exactly
# the upstream flags and link against that tree's selftest library.
#   OURS_SRC   directory of our selftest sources
#   OURS_OUT   output directory
#   OURS_INC   extra include directory (the repo's uapi/)
#   OURS_SHIM_INC, OURS_SHIM_LIB  libhvrelay's header directory and archive
#              (optional: only selftests/ link it)
$(OURS_OUT)/%: $(OURS_SRC)/%.c $(LIBKVM_OBJS) $(OURS_SHIM_LIB)
	@mkdir -p $(OURS_OUT)
	$(CC) $(CFLAGS) -I$(OURS_INC) $(OURS_SHIM_INC:%=-I%) -MD -MF $@.d $(CPPFLAGS) $(LDFLAGS) \
		$(TARGET_ARCH) $< $(LIBKVM_OBJS) $(OURS_SHIM_LIB) $(LDLIBS) -o $@

-include $(wildcard $(OURS_OUT)/*.d)
