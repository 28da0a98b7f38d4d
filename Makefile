# egg — the one place where build flags live.
#
#   make run      set up (apt-get), build everything, run the hello guest
#   make test     set up, build, host unit tests + QEMU integration tests
#   make lint     style checks (no unsafe code in logic modules, header comments)
#   make bench    set up, build, benchmarks vs native and a Linux VM (QUICK=1: short run)
#   make kernel   the Embedded Swift kernel only (build/kernel/kernel.elf)
#   make fuzz     the syscall fuzzer under egg, per seed (SEEDS="1 2 3" CALLS=100000)
#   make iso      build/egg-demo.iso: GRUB image (BIOS + UEFI) of the hello guest (ISO_PROGRAM=...)
#   make install PREFIX=dir
#
# The kernel is built here rather than by SwiftPM: each logic module (LinuxABI, ELF,
# KernelCore, Drivers) is compiled a second time in Embedded Swift for
# x86_64-unknown-none-elf, followed by KernelArch (unsafe hardware layer), Kernel (main)
# and KernelRuntime (C/asm runtime hooks), then linked with ld.lld.

SWIFT_BIN ?= /opt/swift/usr/bin
SWIFTC    := $(SWIFT_BIN)/swiftc
SWIFT     := $(SWIFT_BIN)/swift
CLANG     := $(SWIFT_BIN)/clang
LLD       := $(SWIFT_BIN)/ld.lld
PREFIX    ?= /usr/local
BUILD     := build
KB        := $(BUILD)/kernel
SHELL     := /bin/bash

KERNEL_TARGET := x86_64-unknown-none-elf
# Embedded Swift for the kernel: no SSE/MMX in kernel code (the guest owns the vector
# registers), no red zone (interrupts share the stack), RIP-relative code (the kernel is
# linked in the lower half at 0x7f8000000000, see Sources/KernelArch/boot.S for why).
KSWIFTFLAGS := -target $(KERNEL_TARGET) -enable-experimental-feature Embedded -wmo \
	-parse-as-library -Osize -Xfrontend -disable-stack-protector \
	-Xfrontend -function-sections -Xcc -mno-red-zone \
	-Xcc -mno-sse -Xcc -mno-sse2 -Xcc -mno-mmx -I $(KB) -D EGG_KERNEL
KCFLAGS := --target=$(KERNEL_TARGET) -ffreestanding -fno-builtin -nostdlib -mno-red-zone \
	-fpie -mno-sse -mno-sse2 -mno-mmx -Os -Wall -Werror -ffunction-sections \
	-fno-stack-protector
UNICODE_TABLES := /opt/swift/usr/lib/swift/embedded/$(KERNEL_TARGET)/libswiftUnicodeDataTables.a

# Module order matters: each imports the ones before it.
KMODULES := LinuxABI ELF Net KernelCore Drivers KernelArch Kernel
KOBJS    := $(foreach m,$(KMODULES),$(KB)/$(m).o) $(KB)/runtime.o $(KB)/boot.o $(KB)/entry.o $(KB)/ap_boot.o
KOBJS    += $(KB)/vdso_image.o

.PHONY: all setup kernel egg guests run test unit-test integration-test install clean lint bench iso fuzz

all: kernel egg guests

setup:
	@scripts/setup.sh

kernel: $(KB)/kernel.elf

$(KB):
	@mkdir -p $@

# One rule per Swift module; the dependency on the previous module's .o orders the chain.
# swiftc may leave an unchanged .o with its old time stamp; the touch makes every module
# that imports this one rebuild after it did (a stale Kernel.o once linked against a changed
# KernelCore enum and killed guests at random).
define kmodule
$(KB)/$(1).o: $(wildcard Sources/$(1)/*.swift Sources/$(1)/*/*.swift) $(2) Makefile | $(KB)
	@echo "  SWIFTC  $(1) (embedded)"
	@$(SWIFTC) $(KSWIFTFLAGS) $(3) -module-name $(1) -emit-module -emit-module-path $(KB)/$(1).swiftmodule \
		-c $(wildcard Sources/$(1)/*.swift Sources/$(1)/*/*.swift) -o $$@
	@touch $$@
endef
$(eval $(call kmodule,LinuxABI,,))
$(eval $(call kmodule,ELF,$(KB)/LinuxABI.o,))
$(eval $(call kmodule,Net,$(KB)/LinuxABI.o,))
$(eval $(call kmodule,KernelCore,$(KB)/ELF.o $(KB)/Net.o,))
$(eval $(call kmodule,Drivers,$(KB)/KernelCore.o $(KB)/Net.o,))
$(eval $(call kmodule,KernelArch,$(KB)/Drivers.o $(wildcard Sources/KernelArch/include/*),-Xcc -I -Xcc Sources/KernelArch/include -I Sources/KernelArch/include))
$(eval $(call kmodule,Kernel,$(KB)/KernelArch.o $(KB)/KernelCore.o $(KB)/Drivers.o $(wildcard Sources/KernelArch/include/*),-Xcc -I -Xcc Sources/KernelArch/include -I Sources/KernelArch/include))

$(KB)/runtime.o: Sources/KernelRuntime/runtime.c | $(KB)
	@echo "  CC      $<"
	@$(CLANG) $(KCFLAGS) -c $< -o $@
$(KB)/boot.o: Sources/KernelArch/boot.S | $(KB)
	@echo "  AS      $<"
	@$(CLANG) $(KCFLAGS) -c $< -o $@
$(KB)/ap_boot.o: Sources/KernelArch/ap_boot.S Makefile | $(KB)
	@echo "  AS      $<"
	@$(CLANG) $(KCFLAGS) -c $< -o $@
$(KB)/entry.o: Sources/KernelArch/entry.S | $(KB)
	@echo "  AS      $<"
	@$(CLANG) $(KCFLAGS) -c $< -o $@

# The vDSO (Sources/KernelArch/vdso/vdso.c): a position-independent shared object for user
# mode, linked by vdso.lds into one PT_LOAD with DT_HASH and DT_GNU_HASH and the LINUX_2.6
# symbol versions of vdso.ver, then embedded in the kernel by vdso_image.S.
VDSO_CFLAGS := --target=x86_64-unknown-linux-gnu -O2 -fPIC -ffreestanding -fno-builtin -nostdlib \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none -Wall -Werror
$(KB)/vdso.so: Sources/KernelArch/vdso/vdso.c Sources/KernelArch/vdso/vdso.lds Sources/KernelArch/vdso/vdso.ver | $(KB)
	@echo "  VDSO    $@"
	@$(CLANG) $(VDSO_CFLAGS) -c $< -o $(KB)/vdso.o
	@$(LLD) -shared -soname linux-vdso.so.1 --hash-style=both --version-script Sources/KernelArch/vdso/vdso.ver \
		-T Sources/KernelArch/vdso/vdso.lds -z max-page-size=4096 --build-id=none -Bsymbolic -z noexecstack \
		-o $@ $(KB)/vdso.o
	@if readelf -r $@ | grep -q "R_X86_64"; then echo "vdso.so has relocations" >&2; rm -f $@; exit 1; fi
$(KB)/vdso_image.o: Sources/KernelArch/vdso_image.S $(KB)/vdso.so | $(KB)
	@echo "  AS      $<"
	@$(CLANG) $(KCFLAGS) -DVDSO_PATH='"$(KB)/vdso.so"' -c $< -o $@

KLDFLAGS := -nostdlib --no-pie --no-dynamic-linker --gc-sections -z max-page-size=4096
$(KB)/kernel.elf: $(KOBJS) Sources/KernelArch/kernel.ld $(KB)/kernel-build.txt
	@echo "  LD      $@"
	@$(LLD) $(KLDFLAGS) \
		-T Sources/KernelArch/kernel.ld -o $@ $(KOBJS) $(UNICODE_TABLES)
	@echo "  kernel: $$(stat -c %s $@) bytes"

# For `egg run/build --syscalls F.swift` (Sources/EggHost/CustomSyscallKernel.swift): the
# flags and objects to compile one more Embedded Swift module against these and relink.
$(KB)/kernel-build.txt: Makefile Sources/KernelArch/kernel.ld | $(KB)
	@cp Sources/KernelArch/kernel.ld $(KB)/kernel.ld
	@printf 'swiftflags %s\nobjects %s\nldflags %s\n' '$(filter-out -I $(KB),$(KSWIFTFLAGS))' \
		'$(notdir $(KOBJS))' '$(KLDFLAGS)' > $@

egg:
	@echo "  SWIFT   build egg"
	@$(SWIFT) build -c release --product egg
	@test -x .build/release/egg

guests:
	@$(MAKE) --no-print-directory -C Guest

run: setup all
	.build/release/egg run $(BUILD)/guest/hello-musl

unit-test:
	$(SWIFT) test

integration-test: all
	Tests/integration/run.sh
	Tests/integration/net.sh
	Tests/integration/iso.sh
	Tests/integration/tty.sh
	# A short fuzz run (issue 12's huge-count and huge-file panics are fixed, so no
	# --avoid-known). Not --native here: on some hosts a native seed is SIGKILLed by its own
	# random rlimit/prctl calls (`Tests/integration/fuzz.sh --native 1 2` runs that proof).
	Tests/integration/fuzz.sh --calls 20000 1 2 3
	Tests/integration/stdio.sh
	Tests/integration/volumes.sh

lint:
	@scripts/lint.sh

test: setup lint all unit-test integration-test

# Benchmarks side by side with native and a Linux VM (scripts/bench/bench.sh; QUICK=1 for a
# short run): Markdown table on stdout, results/bench.json, results/bench.png.
bench: setup all
	@scripts/bench/bench.sh $(if $(QUICK),--quick)

# The syscall fuzzer (Guest/c/syscall_fuzz.c) under egg, one run per seed, reproducible:
# each seed's line says pass, kernel panic (250), hang (timeout) or guest crash.
SEEDS ?= 1 2 3
CALLS ?= 100000
fuzz: all
	@Tests/integration/fuzz.sh --calls $(CALLS) $(SEEDS)

# A bootable image of one guest (`egg pack`, Sources/EggHost/ISOImage.swift); e.g.
# make iso ISO_PROGRAM=build/guest/lissajous-musl ISO_ARGS=30 for the framebuffer demo.
ISO_PROGRAM ?= $(BUILD)/guest/hello-musl
ISO_ARGS    ?=
iso: setup all
	.build/release/egg pack -o $(BUILD)/egg-demo.iso $(ISO_PROGRAM) $(if $(ISO_ARGS),-- $(ISO_ARGS))

install: all
	install -d $(PREFIX)/bin $(PREFIX)/share/egg
	install -m 755 .build/release/egg $(PREFIX)/bin/egg
	install -m 644 $(KB)/kernel.elf $(PREFIX)/share/egg/kernel.elf
	install -d $(PREFIX)/share/egg/kernel
	install -m 644 $(KB)/*.swiftmodule $(KB)/*.o $(KB)/kernel.ld $(KB)/kernel-build.txt $(PREFIX)/share/egg/kernel/

clean:
	rm -rf $(BUILD) .build
