package nodes

import (
	"regexp"
	"testing"
)

// azureFamily splits an Azure family (Dpldsv6) into series, features and
// version, to build a size name from it.
var azureFamily = regexp.MustCompile(`^([A-Z]+)([a-z]*)(v\d+)$`)

// TestEveryFamilyParses builds a real instance-type name for every family
// in the data and checks it maps back to the family and its architecture.
func TestEveryFamilyParses(t *testing.T) {
	table, err := loadTable(instanceTypesYAML)
	if err != nil {
		t.Fatal(err)
	}
	if table.Source == "" || table.Date == "" {
		t.Errorf("instancetypes.yaml: source %q, date %q: both are required", table.Source, table.Date)
	}
	n := 0
	for cloud, byArch := range map[string]map[string][]string{CloudAWS: table.AWS, CloudAzure: table.Azure, CloudGCP: table.GCP} {
		for arch, fams := range byArch {
			if arch != "amd64" && arch != "arm64" {
				t.Errorf("%s: architecture %q is not a kubernetes.io/arch value archway expects", cloud, arch)
			}
			for _, f := range fams {
				var names []string
				switch cloud {
				case CloudAWS:
					names = []string{f + ".large", f + ".metal", f}
				case CloudAzure:
					m := azureFamily.FindStringSubmatch(f)
					if m == nil {
						t.Errorf("azure family %q does not read as series, features, version", f)
						continue
					}
					names = []string{"Standard_" + m[1] + "4" + m[2] + "_" + m[3], "standard_" + m[1] + "16" + m[2] + "_" + m[3]}
				case CloudGCP:
					names = []string{f + "-standard-4", f + "-highmem-16"}
				}
				for _, name := range names {
					n++
					if got, ok := Arch(name); !ok || got != arch {
						fam, c := Family(name)
						t.Errorf("Arch(%q) = %q, %v; want %q (family %q in %s)", name, got, ok, arch, fam, c)
					}
				}
			}
		}
	}
	if len(table.AWS["arm64"]) < 42 {
		t.Errorf("only %d AWS arm64 families; the sources list 41 Graviton families and p6e-gb200", len(table.AWS["arm64"]))
	}
	t.Logf("%d instance-type names checked", n)
}

func TestArch(t *testing.T) {
	for _, c := range []struct {
		in   string
		arch string
		ok   bool
	}{
		{"a1.medium", "arm64", true},
		{"t4g.nano", "arm64", true},
		{"m6gd.xlarge", "arm64", true},
		{"c7gn.16xlarge", "arm64", true},
		{"hpc7g.4xlarge", "arm64", true},
		{"x8g.metal-24xl", "arm64", true},
		{"i8ge.large", "arm64", true},
		{"c9g.large", "arm64", true},
		{"m9gd.2xlarge", "arm64", true},
		{"r8gb.large", "arm64", true},
		{"p6e-gb200.36xlarge", "arm64", true},
		{"p6e-gb200", "arm64", true},
		{"c7i-flex.large", "amd64", true},
		{"m5.large", "amd64", true},
		{"u7in-32tb.224xlarge", "amd64", true},
		{"Standard_D2pls_v6", "arm64", true},
		{"Standard_E8-4pds_v5", "arm64", true},
		{"Standard_B2pts_v2", "arm64", true},
		{"Standard_D4s_v5", "amd64", true},
		{"c4a-highcpu-8", "arm64", true},
		{"n4a-standard-2", "arm64", true},
		{"t2a-standard-1", "arm64", true},
		{"n2d-standard-2", "amd64", true},
		// Absent from the data: unknown, never assumed x86.
		{"m10g.large", "", false},
		{"zz9.large", "", false},
		{"mac2.metal", "", false},
		{"Standard_D4pxs_v9", "", false},
		{"z9x-standard-4", "", false},
		{"", "", false},
	} {
		got, ok := Arch(c.in)
		if got != c.arch || ok != c.ok {
			t.Errorf("Arch(%q) = %q, %v; want %q, %v", c.in, got, ok, c.arch, c.ok)
		}
	}
}
