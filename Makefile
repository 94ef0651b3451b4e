# SPDX-License-Identifier: GPL-2.0
#
# etcp: top-level Makefile.
#
#   make                 build etcp.ko for KDIR (or KVER)
#   make modules-all     build it for every kernel the test VM boots
#   make demo            boot the test VM on each kernel, load etcp and walk
#                        through the textbook's scenarios; SCENE=NAME runs
#                        one, SCENE=list lists them, KVER=... one kernel
#   make bench           etcp's speed against kernel TCP's, in the test VM
#   make tools           build/tools: etcp-run and its LD_PRELOAD library,
#                        etcp-ss
#   make check           every selftest on every supported kernel, the
#                        hostile-input ones on the debug kernel too
#   make install         etcp.ko into /lib/modules/KVER/extra (depmod), the
#                        uapi header, etcp(7) and etcp-run; DESTDIR=DIR
#                        stages it
#   make dkms-src        the sources and dkms.conf into
#                        DESTDIR/usr/src/etcp-VERSION, for dkms add/install
#   make style           checkpatch (version tests are compat.h's job,
#                        so LINUX_VERSION_CODE warnings are off);  make C=1 / W=1 pass through to kbuild
#
# Each kernel gets its own build directory, build/<kernel release>/, so the
# 6.1 and 6.12 objects never mix; the sources are copied there because
# kbuild (before 6.13) writes objects next to the sources it compiles.

TOP := $(CURDIR)
BUILD := $(TOP)/build

# KDIR wins; else KVER; else the running kernel if its build tree exists;
# else the first supported kernel (scripts/kernels.sh: 6.1).
ifneq ($(KDIR),)
  KBUILD_DIR := $(KDIR)
  KVER := $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
else
  ifeq ($(KVER),)
    KVER := $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
	else $(TOP)/scripts/kernels.sh 2>/dev/null | head -n 1; fi)
  endif
  # The root the kernel's headers live under (scripts/kernels.sh --root):
  # empty for the host's own kernels; for 7.2 the Debian 13 root, where
  # kbuild then runs (scripts/in-root.sh), its tools being Debian 13's.
  KROOT := $(patsubst %/,%,$(shell $(TOP)/scripts/kernels.sh --root $(KVER) 2>/dev/null))
  ifeq ($(KROOT),)
    KBUILD_DIR := $(firstword $(wildcard /lib/modules/$(KVER)/build) \
		$(wildcard /usr/src/linux-headers-$(KVER)))
  else
    KBUILD_DIR := $(if $(wildcard $(KROOT)/usr/src/linux-headers-$(KVER)),/usr/src/linux-headers-$(KVER))
  endif
endif

SRCS := Kbuild $(wildcard module/*.c module/*.h) include/uapi/linux/etcp.h
OBJDIR := $(BUILD)/$(KVER)
IN_ROOT := $(if $(KROOT),$(TOP)/scripts/in-root.sh $(KROOT) $(OBJDIR) --)

# DKMS's version of the sources: 0.COMMITS.gHASH of the commit they come
# from (0 outside a git checkout).
VERSION := $(shell v=$$(git -C $(TOP) rev-list --count HEAD 2>/dev/null) && \
	echo 0.$$v.g$$(git -C $(TOP) rev-parse --short HEAD) || echo 0)
DESTDIR ?= /

.PHONY: all module modules-all selftests tools demo bench check style clean deps \
	install dkms-src

all: module

module: $(SRCS)
	@test -n "$(KBUILD_DIR)" || { echo "no kernel build tree: set KDIR or KVER, or run scripts/deps.sh" >&2; exit 1; }
	@mkdir -p $(OBJDIR)
	@cp -p --parents $(SRCS) $(OBJDIR)/
	$(IN_ROOT) $(MAKE) -C $(KBUILD_DIR) M=$(OBJDIR) $(if $(C),C=$(C)) $(if $(W),W=$(W)) modules
	@ln -sf $(OBJDIR)/etcp.ko $(TOP)/etcp.ko

# The kernels the test VM boots (scripts/kernels.sh lists them).
modules-all:
	@for v in $$(scripts/kernels.sh); do \
		$(MAKE) --no-print-directory module KVER=$$v || exit 1; \
	done

# etcp_run.sh runs programs under build/tools/etcp-run.
selftests: tools
	$(MAKE) -C selftests OUT=$(BUILD)/selftests

tools:
	$(MAKE) -C tools/etcp-run OUT=$(BUILD)/tools
	$(MAKE) -C tools/etcp-ss OUT=$(BUILD)/tools

install: module tools
	scripts/install.sh -d $(DESTDIR) -k $(KVER) -m $(OBJDIR)/etcp.ko -t $(BUILD)/tools

dkms-src:
	scripts/install.sh -d $(DESTDIR) --dkms-src $(VERSION)

deps:
	scripts/deps.sh

# SCENE: the scenes to run (make demo SCENE=list lists them); KVER given
# on the command line: that kernel only.
demo:
	scripts/demo.sh $(if $(filter command line,$(origin KVER)),-k $(KVER)) $(SCENE)

# BENCH_ARGS: scripts/bench.sh's options, e.g. "-k 6.12 -t 5".
bench:
	scripts/deps.sh
	scripts/bench.sh $(BENCH_ARGS)

check:
	scripts/check.sh

CHECKPATCH_DIR := $(BUILD)/checkpatch
$(CHECKPATCH_DIR)/checkpatch.pl:
	@mkdir -p $(CHECKPATCH_DIR)
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C $(CHECKPATCH_DIR) \
		--strip-components=2 linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	@touch $@

CHECKPATCH_IGNORE := FILE_PATH_CHANGES,SPDX_LICENSE_TAG,LINUX_VERSION_CODE,CONSTANT_COMPARISON
# What a trace header is made of, and checkpatch does not know: lists of
# enum values and fields as bare macros, TRACE_DEFINE_ENUM() with its
# semicolon, and TRACE_EVENT()'s layout (include/trace/events/ reads so).
CHECKPATCH_TRACE_IGNORE := COMPLEX_MACRO,TRAILING_SEMICOLON,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT

style: $(CHECKPATCH_DIR)/checkpatch.pl
	$(CHECKPATCH_DIR)/checkpatch.pl --no-tree --strict --show-types \
		--ignore $(CHECKPATCH_IGNORE) \
		-f $(filter-out module/trace.h,$(wildcard module/*.c module/*.h)) \
		include/uapi/linux/etcp.h
	$(CHECKPATCH_DIR)/checkpatch.pl --no-tree --strict --show-types \
		--ignore $(CHECKPATCH_IGNORE),$(CHECKPATCH_TRACE_IGNORE) \
		-f module/trace.h

clean:
	rm -rf $(BUILD) etcp.ko
