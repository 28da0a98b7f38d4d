/*
 * auxv.c — checks the ELF auxiliary vector the loader put above envp (see getauxval(3),
 * Linux fs/binfmt_elf.c create_elf_tables, and the System V x86-64 psABI §3.4.1):
 * AT_PAGESZ is 4096, AT_RANDOM points at 16 bytes that are not all zero, AT_PHDR/AT_PHENT/
 * AT_PHNUM describe this program's own program headers (cross-checked against the ELF
 * header the linker exposes as __ehdr_start and against dl_iterate_phdr), AT_ENTRY is _start,
 * AT_BASE is 0 (no interpreter), AT_EXECFN is a non-empty string, AT_UID/EUID/GID/EGID
 * agree with the get*id calls and AT_SECURE is 0. Also walks the raw vector after envp.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#define _GNU_SOURCE
#include "check.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>

const char *const test_name = "auxv";

extern char **environ;
extern char _start[];                  /* the entry point (crt1.o / rcrt1.o) */
extern const Elf64_Ehdr __ehdr_start;  /* defined by the linker when headers are loaded */

struct first_object {
    int seen;
    const Elf64_Phdr *phdr;
    int phnum;
    uintptr_t addr;
};

static int first_object_callback(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct first_object *fo = data;
    if (!fo->seen) {
        fo->seen = 1;
        fo->phdr = info->dlpi_phdr;
        fo->phnum = info->dlpi_phnum;
        fo->addr = info->dlpi_addr;
    }
    return 0;
}

int main(void)
{
    /* The raw vector: the words after envp's NULL are (type, value) pairs up to AT_NULL. */
    char **p = environ;
    while (*p != NULL)
        p++;
    const Elf64_auxv_t *raw = (const Elf64_auxv_t *)(p + 1);
    int n = 0;
    uint64_t raw_pagesz = 0, raw_entry = 0;
    for (; n < 128 && raw[n].a_type != AT_NULL; n++) {
        if (raw[n].a_type == AT_PAGESZ)
            raw_pagesz = raw[n].a_un.a_val;
        if (raw[n].a_type == AT_ENTRY)
            raw_entry = raw[n].a_un.a_val;
    }
    CHECK(n < 128, "no AT_NULL in the first 128 auxv entries after envp");

    unsigned long pagesz = getauxval(AT_PAGESZ);
    CHECK(pagesz == 4096, "AT_PAGESZ is %lu", pagesz);
    CHECK(raw_pagesz == pagesz, "raw AT_PAGESZ %lu != getauxval %lu", (unsigned long)raw_pagesz,
          pagesz);
    CHECK(sysconf(_SC_PAGESIZE) == 4096, "sysconf(_SC_PAGESIZE) is %ld", sysconf(_SC_PAGESIZE));

    const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
    CHECK(rnd != NULL, "AT_RANDOM missing");
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero |= rnd[i];
    CHECK(nonzero, "AT_RANDOM's 16 bytes are all zero");

    unsigned long entry = getauxval(AT_ENTRY);
    CHECK(entry == (unsigned long)(uintptr_t)_start, "AT_ENTRY %#lx != &_start %p", entry,
          (void *)_start);
    CHECK(raw_entry == entry, "raw AT_ENTRY %#lx != getauxval %#lx", (unsigned long)raw_entry,
          entry);

    unsigned long phdr = getauxval(AT_PHDR), phent = getauxval(AT_PHENT),
                  phnum = getauxval(AT_PHNUM);
    uintptr_t ehdr = (uintptr_t)&__ehdr_start;
    CHECK(memcmp(__ehdr_start.e_ident, ELFMAG, SELFMAG) == 0, "__ehdr_start is not an ELF header");
    CHECK(phent == sizeof(Elf64_Phdr), "AT_PHENT is %lu", phent);
    CHECK(phdr == ehdr + __ehdr_start.e_phoff, "AT_PHDR %#lx != __ehdr_start %#lx + e_phoff %#lx",
          phdr, (unsigned long)ehdr, (unsigned long)__ehdr_start.e_phoff);
    CHECK(phnum == __ehdr_start.e_phnum, "AT_PHNUM %lu != e_phnum %u", phnum,
          (unsigned)__ehdr_start.e_phnum);

    struct first_object fo = {0};
    dl_iterate_phdr(first_object_callback, &fo);
    CHECK(fo.seen, "dl_iterate_phdr reported no object");
    CHECK((uintptr_t)fo.phdr == phdr && (unsigned long)fo.phnum == phnum,
          "dl_iterate_phdr phdr %p/%d != AT_PHDR %#lx/%lu", (void *)fo.phdr, fo.phnum, phdr,
          phnum);

    /* The load bias: 0 for ET_EXEC, the load address for a static PIE. Entry and the
     * headers must be consistent with it. */
    uintptr_t bias = ehdr;  /* the first PT_LOAD maps file offset 0 (the ELF header) */
    const Elf64_Phdr *ph = (const Elf64_Phdr *)phdr;
    int entry_in_exec_load = 0;
    for (unsigned long i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
            bias = ehdr - ph[i].p_vaddr;
    }
    if (__ehdr_start.e_type == ET_EXEC)
        CHECK(bias == 0, "ET_EXEC program loaded with bias %#lx", (unsigned long)bias);
    CHECK(fo.addr == bias, "dl_iterate_phdr dlpi_addr %#lx != load bias %#lx",
          (unsigned long)fo.addr, (unsigned long)bias);
    CHECK(entry == bias + __ehdr_start.e_entry, "AT_ENTRY %#lx != bias + e_entry %#lx", entry,
          (unsigned long)(bias + __ehdr_start.e_entry));
    for (unsigned long i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) &&
            entry >= bias + ph[i].p_vaddr && entry < bias + ph[i].p_vaddr + ph[i].p_memsz)
            entry_in_exec_load = 1;
        if (ph[i].p_type == PT_PHDR)
            CHECK(bias + ph[i].p_vaddr == phdr, "PT_PHDR at %#lx != AT_PHDR %#lx",
                  (unsigned long)(bias + ph[i].p_vaddr), phdr);
    }
    CHECK(entry_in_exec_load, "AT_ENTRY %#lx is not inside an executable PT_LOAD", entry);

    CHECK(getauxval(AT_BASE) == 0, "AT_BASE is %#lx for a program without interpreter",
          getauxval(AT_BASE));

    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK(execfn != NULL && execfn[0] != '\0', "AT_EXECFN is missing or empty");

    CHECK(getauxval(AT_UID) == (unsigned long)getuid(), "AT_UID %lu != getuid %u",
          getauxval(AT_UID), (unsigned)getuid());
    CHECK(getauxval(AT_EUID) == (unsigned long)geteuid(), "AT_EUID %lu != geteuid %u",
          getauxval(AT_EUID), (unsigned)geteuid());
    CHECK(getauxval(AT_GID) == (unsigned long)getgid(), "AT_GID %lu != getgid %u",
          getauxval(AT_GID), (unsigned)getgid());
    CHECK(getauxval(AT_EGID) == (unsigned long)getegid(), "AT_EGID %lu != getegid %u",
          getauxval(AT_EGID), (unsigned)getegid());
    CHECK(getauxval(AT_SECURE) == 0, "AT_SECURE is %lu", getauxval(AT_SECURE));

    return pass("%d entries, %s", n, __ehdr_start.e_type == ET_DYN ? "static-pie" : "ET_EXEC");
}
