package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFile replaces the file at path with data atomically: it writes a
// temporary file in the same directory, syncs it, gives it the original
// file's mode (0644 for a new file) and renames it over path. On error the
// original is untouched and the temporary file removed; errors name path,
// never the temporary file.
func WriteFile(path string, data []byte) error {
	mode := os.FileMode(0o644)
	uid, gid := -1, -1
	if info, err := os.Stat(path); err == nil {
		mode = info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	if err := writeAtomic(path, data, mode, uid, gid); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ReplaceFile writes data over a file whose content was old when it was
// read, atomically as WriteFile does, keeping its mode bits (setuid,
// setgid and sticky included) and, where the process may, its owner. A
// symbolic link is written through to its target, which stays a regular
// file and keeps the link. The file is left untouched, with an error, when
// it is read-only (its owner cannot write it) or when it changed since it
// was read (someone else wrote it meanwhile: their bytes are not lost).
// A file that did not exist (old empty) is created.
func ReplaceFile(path string, old, data []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) && len(old) == 0 {
		return WriteFile(path, data) // a new file
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	info, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	if info.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("%s is read-only (mode %04o): left untouched; make it writable to place it", path, info.Mode().Perm())
	}
	now, err := os.ReadFile(target)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	if !bytes.Equal(now, old) {
		return fmt.Errorf("%s changed since archway read it: left untouched (run again to place the new content)", path)
	}
	return WriteFile(target, data)
}

// writeAtomic writes data to a temporary file beside path and renames it
// over path.
func writeAtomic(path string, data []byte, mode fs.FileMode, uid, gid int) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".archway-*")
	if err != nil {
		return unwrapPath(err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = unwrapPath(err)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if uid >= 0 && (uid != os.Getuid() || gid != os.Getgid()) {
		_ = tmp.Chown(uid, gid) // only root may give a file away; then it keeps the owner
	}
	if err = tmp.Chmod(mode); err != nil { // after Chown, which clears setuid and setgid
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, dirErr := os.Open(filepath.Dir(path)); dirErr == nil {
		_ = d.Sync() // make the rename durable; best effort
		d.Close()
	}
	return nil
}

// unwrapPath drops the file name from a *fs.PathError or *os.LinkError, so
// that a temporary file's name never reaches a message.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
