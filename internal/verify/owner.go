package verify

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// Package database formats.
const (
	DBDpkg = "dpkg"
	DBApk  = "apk"
	DBRpm  = "rpm" // found but not read: its Berkeley DB or SQLite format is not parsed
)

// PackageDB is one package database file of a layer and what it says.
type PackageDB struct {
	// Path is the database file, e.g. /var/lib/dpkg/info/curl.list.
	Path string `json:"path"`
	// Format is dpkg, apk or rpm.
	Format string `json:"format"`
	// Packages are the packages it names with the files they own;
	// empty for rpm.
	Packages []Package `json:"packages,omitempty"`
}

// Package is an installed package and the paths it owns.
type Package struct {
	// Name is the package name, without an architecture suffix.
	Name string `json:"name"`
	// Files are the absolute paths the package owns, as its database lists them.
	Files []string `json:"files"`
}

// dbKind says which package database p is, or "".
func dbKind(p string) string {
	switch {
	case strings.HasPrefix(p, "/var/lib/dpkg/info/") && strings.HasSuffix(p, ".list"),
		strings.HasPrefix(p, "/var/lib/dpkg/status.d/") && strings.HasSuffix(p, ".md5sums"):
		return DBDpkg
	case p == "/lib/apk/db/installed" || p == "/usr/lib/apk/db/installed":
		return DBApk
	case p == "/var/lib/rpm/Packages" || p == "/var/lib/rpm/rpmdb.sqlite" || p == "/usr/lib/sysimage/rpm/rpmdb.sqlite" || p == "/usr/lib/sysimage/rpm/Packages.db":
		return DBRpm
	}
	return ""
}

// readDB reads a package database file of size bytes from r (at most max).
func readDB(p, kind string, r io.Reader, size, max int64) (PackageDB, error) {
	db := PackageDB{Path: p, Format: kind}
	if kind == DBRpm {
		return db, nil
	}
	if size > max {
		return db, fmt.Errorf("%s: package database of %d bytes exceeds the %d-byte cap", p, size, max)
	}
	sc := bufio.NewScanner(io.LimitReader(r, size))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	switch kind {
	case DBApk:
		var cur *Package
		dir := ""
		for sc.Scan() {
			line := sc.Text()
			k, v, ok := strings.Cut(line, ":")
			if !ok || len(k) != 1 {
				continue
			}
			switch k {
			case "P":
				db.Packages = append(db.Packages, Package{Name: v})
				cur, dir = &db.Packages[len(db.Packages)-1], ""
			case "F":
				dir = v
			case "R":
				if cur != nil {
					cur.Files = append(cur.Files, cleanPath(path.Join(dir, v)))
				}
			}
		}
	default: // dpkg: a .list of absolute paths, or a distroless .md5sums of "sum  path"
		name := strings.TrimSuffix(strings.TrimSuffix(path.Base(p), ".list"), ".md5sums")
		name, _, _ = strings.Cut(name, ":") // curl:arm64.list
		pkg := Package{Name: name}
		md5 := strings.HasSuffix(p, ".md5sums")
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if md5 {
				if _, f, ok := strings.Cut(line, "  "); ok {
					line = f
				} else {
					continue
				}
			}
			if line != "" {
				pkg.Files = append(pkg.Files, cleanPath(line))
			}
		}
		db.Packages = []Package{pkg}
	}
	if err := sc.Err(); err != nil {
		return db, fmt.Errorf("%s: %w", p, err)
	}
	return db, nil
}

// owners maps paths to the packages that own them, from the databases of
// the final filesystem.
type owners struct {
	by  map[string]string
	rpm bool // an rpm database is present, and not read
}

// owner says who owns p: "dpkg:NAME", "apk:NAME", or why nobody does.
func (o owners) owner(p string) string {
	if name, ok := o.by[p]; ok {
		return name
	}
	if o.rpm {
		return "unowned or unknown: the rpm database is not read"
	}
	return "unowned: downloaded or copied in"
}
