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

# ---------------------------------------------------------------------------
# Test bed (tools/testbed, Documentation/test-bed.rst): Debian kernels booted
# under Bochs (Intel) and QEMU TCG (AMD). deps installs missing host packages.

KERNELS ?= bookworm trixie backports
VENDORS ?= intel amd

deps:
	@tools/testbed/deps.sh

fetch: deps
	@tools/testbed/fetch.sh $(KERNELS)

check: deps
	@KERNELS="$(KERNELS)" VENDORS="$(VENDORS)" tools/testbed/check.sh

demo: deps
	@tools/testbed/demo.sh

.PHONY: deps fetch check demo
