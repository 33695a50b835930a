# SPDX-License-Identifier: GPL-2.0-only
#
# make                 build kvm-hv-relay.ko for the running kernel (or KDIR=)
# make clean           remove build products
# make check           the test matrix (KERNELS=, VENDORS=): tools/testbed
# make demo            boot a Debian kernel under emulation, show a relayed post
# make bench           relay benchmarks, reported as ratios

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || \
		rm -f *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers

.PHONY: all modules clean
