package verify

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// headBytes is how much of each regular file is read at first: the ELF
// header, its program headers and PT_INTERP sit well inside it for every
// toolchain we know; a shebang line is at most 256 bytes on Linux.
const headBytes = 4 << 10

// maxHeadBytes bounds how far into a file the sniffer reads when an ELF's
// program headers or interpreter path lie past headBytes.
const maxHeadBytes = 64 << 10

// Kind is what the sniffer took a file for.
type Kind string

// Kinds of file the sniffer tells apart.
const (
	KindELF    Kind = "elf"
	KindScript Kind = "script"
	KindPE     Kind = "pe"
)

// Binary is what the first bytes of a file say about it. Only files that
// are ELF, PE or scripts get one.
type Binary struct {
	// Kind is elf, script or pe.
	Kind Kind `json:"kind"`
	// Arch is the GOARCH name of an ELF's or PE's machine (amd64, arm64,
	// arm, 386 …) or "elf-machine-N" / "pe-machine-0xN" for others.
	Arch string `json:"arch,omitempty"`
	// Class is 32 or 64 for ELF.
	Class int `json:"class,omitempty"`
	// BigEndian is true for ELFDATA2MSB.
	BigEndian bool `json:"bigEndian,omitempty"`
	// Type is the ELF e_type: exec, dyn, rel, core.
	Type string `json:"type,omitempty"`
	// Interp is the ELF PT_INTERP loader path, or a script's interpreter.
	Interp string `json:"interp,omitempty"`
	// Arg is the rest of a script's shebang line after the interpreter.
	Arg string `json:"arg,omitempty"`
	// Truncated is set when an ELF's program headers lie past what the
	// sniffer reads, so whether it has a loader is not known.
	Truncated bool `json:"truncated,omitempty"`
}

// sniff reads the first bytes of a file of the given size from r and says
// what it is; nil means none of the kinds above. It reads at most
// maxHeadBytes; the caller skips the rest. scratch (headBytes long) is
// reused across calls; nothing returned refers to it.
func sniff(r io.Reader, size int64, scratch []byte) (*Binary, error) {
	buf := scratch[:min(size, int64(len(scratch)))]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading file head: %w", err)
	}
	switch {
	case bytes.HasPrefix(buf, []byte(elf.ELFMAG)):
		b, need := parseELF(buf)
		if need > len(buf) && need <= maxHeadBytes && int64(need) <= size {
			more := make([]byte, need-len(buf))
			if _, err := io.ReadFull(r, more); err != nil {
				return nil, fmt.Errorf("reading ELF headers: %w", err)
			}
			b, _ = parseELF(append(buf, more...))
		} else if need > len(buf) {
			b.Truncated = true
		}
		return b, nil
	case bytes.HasPrefix(buf, []byte("#!")):
		return parseShebang(buf), nil
	case bytes.HasPrefix(buf, []byte("MZ")):
		return parsePE(buf), nil
	}
	return nil, nil
}

// parseELF reads the ELF header and program headers in buf. It is a small
// bounded parser rather than debug/elf.NewFile because NewFile also reads
// the section headers, which linkers put at the end of the file: it needs
// the whole file, and we keep only its head. It uses debug/elf's types and
// constants. need is the number of bytes a complete answer takes (more
// than len(buf) when the program headers or interpreter lie further in).
func parseELF(buf []byte) (b *Binary, need int) {
	b = &Binary{Kind: KindELF}
	if len(buf) < elf.EI_NIDENT {
		b.Arch, b.Truncated = "elf-unknown", true
		return b, elf.EI_NIDENT
	}
	class, data := elf.Class(buf[elf.EI_CLASS]), elf.Data(buf[elf.EI_DATA])
	var bo binary.ByteOrder = binary.LittleEndian
	if data == elf.ELFDATA2MSB {
		bo, b.BigEndian = binary.BigEndian, true
	}
	var typ, machine uint16
	var phoff uint64
	var phentsize, phnum int
	var h32 elf.Header32
	var h64 elf.Header64
	hsize := 0
	switch class {
	case elf.ELFCLASS32:
		b.Class, hsize = 32, binary.Size(h32)
	case elf.ELFCLASS64:
		b.Class, hsize = 64, binary.Size(h64)
	default:
		b.Arch = "elf-unknown"
		return b, 0
	}
	if len(buf) < hsize {
		b.Arch, b.Truncated = "elf-unknown", true
		return b, hsize
	}
	if class == elf.ELFCLASS32 {
		_, _ = binary.Decode(buf, bo, &h32)
		typ, machine, phoff, phentsize, phnum = h32.Type, h32.Machine, uint64(h32.Phoff), int(h32.Phentsize), int(h32.Phnum)
	} else {
		_, _ = binary.Decode(buf, bo, &h64)
		typ, machine, phoff, phentsize, phnum = h64.Type, h64.Machine, h64.Phoff, int(h64.Phentsize), int(h64.Phnum)
	}
	b.Type = elfType(elf.Type(typ))
	b.Arch = elfArch(b.Class, b.BigEndian, elf.Machine(machine))

	// Program headers: find PT_INTERP.
	if phnum == 0 || phentsize == 0 {
		return b, 0
	}
	if phoff > maxHeadBytes || phentsize*phnum > maxHeadBytes {
		b.Truncated = true
		return b, 0
	}
	end := int(phoff) + phentsize*phnum
	if end > len(buf) {
		return b, end
	}
	for i := range phnum {
		ph := buf[int(phoff)+i*phentsize:]
		var ptype uint32
		var off, filesz uint64
		if class == elf.ELFCLASS32 {
			var p elf.Prog32
			if _, err := binary.Decode(ph, bo, &p); err != nil {
				return b, 0
			}
			ptype, off, filesz = p.Type, uint64(p.Off), uint64(p.Filesz)
		} else {
			var p elf.Prog64
			if _, err := binary.Decode(ph, bo, &p); err != nil {
				return b, 0
			}
			ptype, off, filesz = p.Type, p.Off, p.Filesz
		}
		if elf.ProgType(ptype) != elf.PT_INTERP {
			continue
		}
		if off > maxHeadBytes || filesz > 4096 {
			b.Truncated = true
			return b, 0
		}
		if int(off+filesz) > len(buf) {
			return b, int(off + filesz)
		}
		b.Interp = strings.TrimRight(string(buf[off:off+filesz]), "\x00")
		return b, 0
	}
	return b, 0
}

// elfType names an ELF e_type.
func elfType(t elf.Type) string {
	switch t {
	case elf.ET_EXEC:
		return "exec"
	case elf.ET_DYN:
		return "dyn"
	case elf.ET_REL:
		return "rel"
	case elf.ET_CORE:
		return "core"
	}
	return fmt.Sprintf("type-%d", t)
}

// elfArch maps an ELF machine, class and byte order to a GOARCH name.
// A 32-bit ELF of a 64-bit machine (x32, arm64 ILP32) gets its own name,
// so it never matches the 64-bit architecture.
func elfArch(class int, bigEndian bool, m elf.Machine) string {
	name := ""
	switch m {
	case elf.EM_X86_64:
		name = "amd64"
	case elf.EM_AARCH64:
		name = "arm64"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_386:
		return "386"
	case elf.EM_PPC64:
		name = "ppc64"
		if !bigEndian {
			name = "ppc64le"
		}
	case elf.EM_PPC:
		return "ppc"
	case elf.EM_S390:
		name = "s390x"
		if class == 32 {
			return "s390"
		}
	case elf.EM_RISCV:
		name = "riscv64"
		if class == 32 {
			return "riscv32"
		}
	case elf.EM_LOONGARCH:
		name = "loong64"
	case elf.EM_MIPS:
		name = "mips"
		if !bigEndian {
			name = "mipsle"
		}
		if class == 64 {
			name = strings.Replace(name, "mips", "mips64", 1)
		}
		return name
	default:
		return fmt.Sprintf("elf-machine-%d", m)
	}
	if class == 32 {
		return name + "-ilp32"
	}
	return name
}

// parseShebang reads a "#!" line the way Linux does: the interpreter path,
// then the rest of the line as one argument.
func parseShebang(buf []byte) *Binary {
	line := buf[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if len(line) > 254 { // Linux BINPRM_BUF_SIZE is 256, "#!" included
		line = line[:254]
	}
	s := strings.TrimSpace(strings.TrimRight(string(line), "\r"))
	interp, arg, _ := strings.Cut(strings.ReplaceAll(s, "\t", " "), " ")
	return &Binary{Kind: KindScript, Interp: interp, Arg: strings.TrimSpace(arg)}
}

// parsePE reads a PE file's COFF Machine; nil when "MZ" is not followed by
// a PE header in buf.
func parsePE(buf []byte) *Binary {
	if len(buf) < 0x40 {
		return nil
	}
	off := int(binary.LittleEndian.Uint32(buf[0x3c:]))
	if off < 0 || off+6 > len(buf) || !bytes.Equal(buf[off:off+4], []byte("PE\x00\x00")) {
		return nil
	}
	m := binary.LittleEndian.Uint16(buf[off+4:])
	arch := fmt.Sprintf("pe-machine-0x%x", m)
	switch m {
	case 0x8664:
		arch = "amd64"
	case 0xaa64:
		arch = "arm64"
	case 0x14c:
		arch = "386"
	case 0x1c4:
		arch = "arm"
	}
	return &Binary{Kind: KindPE, Arch: arch}
}
