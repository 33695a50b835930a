# SPDX-License-Identifier: GPL-2.0
# Appended to a kernel's tools/testing/selftests/kvm Makefile
# ("make -f Makefile -f ours.mk") so that our selftests/*.c build with exactly
# the upstream flags and link against that tree's selftest library.
#   OURS_SRC   directory of our selftest sources
#   OURS_OUT   output directory
#   OURS_INC   extra include directory (the repo's uapi/)
$(OURS_OUT)/%: $(OURS_SRC)/%.c $(LIBKVM_OBJS)
	@mkdir -p $(OURS_OUT)
	$(CC) $(CFLAGS) -I$(OURS_INC) -MD -MF $@.d $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH) \
		$< $(LIBKVM_OBJS) $(LDLIBS) -o $@

-include $(wildcard $(OURS_OUT)/*.d)
