// CLibELF shim — the libelf headers Sources/EggHost/ExecutableValidation.swift uses
// (elf_version, elf_memory, elf_kind, gelf_getehdr, elf_getphdrnum, gelf_getphdr, elf_errmsg).
// Host-only layer; the kernel parses ELF with the pure Sources/ELF module instead.
#ifndef EGG_CLIBELF_SHIM_H
#define EGG_CLIBELF_SHIM_H
#include <libelf.h>
#include <gelf.h>
#endif
