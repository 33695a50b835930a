# SPDX-License-Identifier: GPL-2.0-only
#
# make                 build kvm-hv-relay.ko for the running kernel (or KDIR=)
# make clean           remove build products
# make check           the test matrix (KERNELS=, VENDORS=): tools/testbed
# make check-quick     one cell, builds and our selftests only (trixie/amd by default)
# make soak            the matrix with full stress repetitions on every cell
# make e2e             only its e2e lane: QEMU as the VMM, Debian's kernel as L1
# make demo            boot a Debian kernel under emulation, show a relayed post
# make demo-e2e        the same chain with Debian's QEMU as VMM and kernel as L1
# make bench           relay benchmarks, reported as ratios
# make fuzz            libFuzzer targets (tools/fuzz), FUZZ_TIME= seconds each (60)
# make install         module (modules_install), uapi header, shim (DESTDIR=, PREFIX=)
# make uninstall       remove what install put in place
# make dkms-install    copy the sources to /usr/src/kvm-hv-relay-<version>, dkms add/build/install
# make dkms-uninstall  dkms remove --all and delete /usr/src/kvm-hv-relay-<version>
# make sign            sign kvm-hv-relay.ko for Secure Boot (MOK_KEY=, MOK_CERT=)
# make deb             Debian packages into out/deb/ (tools/test-packaging.sh tests them)
# make docs-check      validate Documentation/*.rst (python3-docutils)
# make kernel-matrix   regenerate Documentation/supported-kernels.rst from out/ results

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
# Installation, DKMS, signing, packaging, documentation

VERSION := $(shell awk -F'"' '/define RELAY_VERSION/ { print $$2 }' $(CURDIR)/kvm_hv_relay.c)
# The release the module is built for, as modules_install names its directory.
KVER ?= $(shell awk -F'"' '/UTS_RELEASE/ { print $$2 }' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)

DESTDIR ?=
PREFIX ?= /usr/local
INCLUDEDIR ?= $(PREFIX)/include
INSTALL ?= install
# modules_install puts external modules in /lib/modules/<release>/$(INSTALL_MOD_DIR).
INSTALL_MOD_DIR ?= extra
SHIM := tools/shim

# Everything DKMS needs to build the module, and nothing it does not.
DKMS_NAME := kvm-hv-relay
DKMS_SRC ?= /usr/src/$(DKMS_NAME)-$(VERSION)
DKMS_FILES := Kbuild Makefile $(filter-out %.mod.c,$(wildcard *.c)) \
	$(filter-out svm_btf.h,$(wildcard *.h))
DKMS_KVER ?= $(shell uname -r)

# DKMS's own Secure Boot key pair (dkms generates it on its first signed build).
MOK_KEY ?= /var/lib/dkms/mok.key
MOK_CERT ?= /var/lib/dkms/mok.pub
SIGN_FILE ?= $(KDIR)/scripts/sign-file
SIGN_HASH ?= $(or $(shell awk -F'"' '/^CONFIG_MODULE_SIG_HASH=/ { print $$2 }' $(KDIR)/.config 2>/dev/null),sha512)

install: install-module install-headers install-shim

install-module: modules
	$(MAKE) -C $(KDIR) M=$(PWD) INSTALL_MOD_PATH=$(abspath $(DESTDIR)) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) modules_install

install-headers:
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/linux
	$(INSTALL) -m 0644 uapi/linux/kvm_hv_relay.h $(DESTDIR)$(INCLUDEDIR)/linux/kvm_hv_relay.h

install-shim:
	@if [ -f $(SHIM)/Makefile ]; then \
		$(MAKE) -C $(SHIM) install DESTDIR=$(abspath $(DESTDIR)) PREFIX=$(PREFIX); \
	else \
		echo "$(SHIM)/Makefile not found: kvm-hv-relay CLI and libhvrelay not installed"; \
	fi

# The shim's install puts these under PREFIX with its default directories.
SHIM_FILES := bin/kvm-hv-relay lib/libhvrelay.a lib/libhvrelay.so lib/libhvrelay.so.0 \
	include/hvrelay.h share/man/man1/kvm-hv-relay.1

uninstall:
	rm -f $(foreach s,.ko .ko.gz .ko.xz .ko.zst, \
		$(DESTDIR)/lib/modules/$(KVER)/$(INSTALL_MOD_DIR)/$(DKMS_NAME)$(s))
	if [ -z "$(DESTDIR)" ] && [ -d /lib/modules/$(KVER) ]; then depmod -a $(KVER); fi
	rm -f $(DESTDIR)$(INCLUDEDIR)/linux/kvm_hv_relay.h
	@if [ -f $(SHIM)/Makefile ] && grep -q '^uninstall:' $(SHIM)/Makefile; then \
		$(MAKE) -C $(SHIM) uninstall DESTDIR=$(abspath $(DESTDIR)) PREFIX=$(PREFIX); \
	else \
		echo rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(SHIM_FILES)); \
		rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(SHIM_FILES)); \
	fi

# The module's sources as DKMS wants them, under $(DESTDIR)$(DKMS_SRC).
dkms-src:
	@test -n "$(VERSION)" || { echo "RELAY_VERSION not found in kvm_hv_relay.c" >&2; exit 1; }
	rm -rf $(DESTDIR)$(DKMS_SRC)
	$(INSTALL) -d $(DESTDIR)$(DKMS_SRC)/uapi/linux
	$(INSTALL) -m 0644 $(DKMS_FILES) $(DESTDIR)$(DKMS_SRC)/
	$(INSTALL) -m 0644 uapi/linux/kvm_hv_relay.h $(DESTDIR)$(DKMS_SRC)/uapi/linux/
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DESTDIR)$(DKMS_SRC)/dkms.conf

dkms-install:
	@command -v dkms >/dev/null || { echo "dkms is not installed (apt-get install dkms)" >&2; exit 1; }
	-dkms remove -m $(DKMS_NAME) -v $(VERSION) --all 2>/dev/null
	$(MAKE) dkms-src DESTDIR=
	dkms add -m $(DKMS_NAME) -v $(VERSION)
	dkms build -m $(DKMS_NAME) -v $(VERSION) -k $(DKMS_KVER)
	dkms install -m $(DKMS_NAME) -v $(VERSION) -k $(DKMS_KVER)

dkms-uninstall:
	-dkms remove -m $(DKMS_NAME) -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

# Sign the built module in place, as DKMS does on a Secure Boot system.
sign: modules
	@test -x $(SIGN_FILE) || { echo "$(SIGN_FILE) not found: install the headers of $(KVER) or set SIGN_FILE=" >&2; exit 1; }
	@test -r $(MOK_KEY) && test -r $(MOK_CERT) || \
		{ echo "MOK key pair $(MOK_KEY) / $(MOK_CERT) not readable: see Documentation/secure-boot.rst" >&2; exit 1; }
	@if tail -c 28 $(DKMS_NAME).ko | grep -q 'Module signature appended'; then \
		echo "$(DKMS_NAME).ko is already signed (make clean, then make sign)"; \
	else \
		echo "$(SIGN_FILE) $(SIGN_HASH) $(MOK_KEY) $(MOK_CERT) $(DKMS_NAME).ko"; \
		$(SIGN_FILE) $(SIGN_HASH) $(MOK_KEY) $(MOK_CERT) $(DKMS_NAME).ko; \
	fi

deb:
	sh tools/build-deb.sh out/deb

# Debian's python3 (where python3-docutils lives), whatever else is on PATH.
PYTHON3 ?= $(firstword $(wildcard /usr/bin/python3) python3)

docs-check:
	$(PYTHON3) tools/docs-check Documentation

# Documentation/supported-kernels.rst from the test bed's results (out/).
kernel-matrix:
	$(PYTHON3) tools/gen-kernel-matrix -o Documentation/supported-kernels.rst

.PHONY: install install-module install-headers install-shim uninstall dkms-src \
	dkms-install dkms-uninstall sign deb docs-check kernel-matrix

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

# The edit-build-test loop: one cell (trixie/amd unless KERNELS=/VENDORS=
# say otherwise), builds and our selftests only (Documentation/test-bed.rst).
QUICK_KERNELS := $(if $(filter command line environment,$(origin KERNELS)),$(KERNELS),trixie)
QUICK_VENDORS := $(if $(filter command line environment,$(origin VENDORS)),$(VENDORS),amd)
check-quick: deps
	@QUICK=1 KERNELS="$(QUICK_KERNELS)" VENDORS="$(QUICK_VENDORS)" tools/testbed/check.sh

# Not part of check: the matrix with every selftest's full repetitions on
# every cell, the Intel (Bochs) ones included (Documentation/test-bed.rst).
soak: deps
	@SOAK=1 KERNELS="$(KERNELS)" VENDORS="$(VENDORS)" tools/testbed/check.sh

# trixie's PREEMPT_RT kernel on Intel (Bochs), apart from check: its boot
# does not fit check's hour (Documentation/test-bed.rst).
check-rt: deps
	@KERNELS=rt VENDORS=intel tools/testbed/check.sh

# The e2e lane alone: QEMU in the guest, Debian's kernel as L1.
e2e: deps
	@LANES=e2e KERNELS="$(KERNELS)" VENDORS="$(VENDORS)" tools/testbed/check.sh

demo: deps
	@tools/testbed/demo.sh

# The relayed call reaching a real QEMU from a real L1 (trixie/amd, a few minutes).
demo-e2e: deps
	@DEMO_E2E=1 DEMO_KERNEL=$${DEMO_KERNEL:-trixie} DEMO_VENDOR=$${DEMO_VENDOR:-amd} tools/testbed/demo.sh

# Not part of check: each kernel and vendor booted once more, without the
# module, which the benchmark loads itself (Documentation/bench.rst).
bench: deps
	@KERNELS="$(KERNELS)" VENDORS="$(VENDORS)" tools/testbed/bench.sh

# Not part of check, which runs each target briefly (tools/fuzz/run.sh --check).
FUZZ_TIME ?= 60
fuzz:
	@tools/fuzz/run.sh --time $(FUZZ_TIME)

.PHONY: deps fetch check check-quick soak check-rt e2e demo demo-e2e bench fuzz
