package nodes

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed instancetypes.yaml
var instanceTypesYAML []byte

// archTable is instancetypes.yaml decoded: cloud → arch → families.
type archTable struct {
	Source string              `yaml:"source"`
	Date   string              `yaml:"date"`
	AWS    map[string][]string `yaml:"aws"`
	Azure  map[string][]string `yaml:"azure"`
	GCP    map[string][]string `yaml:"gcp"`
	// index maps cloud → lower-case family → arch.
	index map[string]map[string]string
}

// The instance-type naming schemes Family tells apart.
const (
	CloudAWS   = "aws"
	CloudAzure = "azure"
	CloudGCP   = "gcp"
)

var families = mustLoadTable(instanceTypesYAML)

func mustLoadTable(data []byte) *archTable {
	t, err := loadTable(data)
	if err != nil {
		panic(err) // embedded data; a test decodes it
	}
	return t
}

func loadTable(data []byte) (*archTable, error) {
	var t archTable
	if err := yaml.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("nodes: instancetypes.yaml: %w", err)
	}
	t.index = map[string]map[string]string{}
	for cloud, byArch := range map[string]map[string][]string{CloudAWS: t.AWS, CloudAzure: t.Azure, CloudGCP: t.GCP} {
		t.index[cloud] = map[string]string{}
		for arch, fams := range byArch {
			for _, f := range fams {
				key := strings.ToLower(f)
				if prev, dup := t.index[cloud][key]; dup {
					return nil, fmt.Errorf("nodes: instancetypes.yaml: %s family %s listed as %s and %s", cloud, f, prev, arch)
				}
				t.index[cloud][key] = arch
			}
		}
	}
	return &t, nil
}

// DataSource returns the source and date of the instance-type data.
func DataSource() (source, date string) { return families.Source, families.Date }

// azureSize matches the size part of an Azure VM size after "Standard_":
// series letters, vCPUs (with an optional constrained count), features,
// then the version, e.g. D4ps_v5, E8-4pds_v6, B2pts_v2.
var azureSize = regexp.MustCompile(`^([A-Za-z]+?)(\d+)(?:-\d+)?([a-z]*)(?:_([A-Za-z0-9]+))*?_(v\d+)(?:_promo)?$`)

// Family returns the family an instance type belongs to and the naming
// scheme it follows: "m7g.large" → m7g (aws), "Standard_D4ps_v5" → Dpsv5
// (azure), "c4a-standard-8" → c4a (gcp). A bare family ("m7g") is read as
// an AWS family.
func Family(instanceType string) (family, cloud string) {
	s := strings.TrimSpace(instanceType)
	switch {
	case strings.Contains(s, "."):
		f, _, _ := strings.Cut(s, ".")
		return strings.ToLower(f), CloudAWS
	case len(s) > 9 && strings.EqualFold(s[:9], "standard_"):
		m := azureSize.FindStringSubmatch(s[9:])
		if m == nil {
			return s, CloudAzure
		}
		return m[1] + m[3] + m[5], CloudAzure
	case strings.Contains(s, "-"):
		f, _, _ := strings.Cut(s, "-")
		if _, ok := families.index[CloudGCP][strings.ToLower(f)]; ok {
			return strings.ToLower(f), CloudGCP
		}
		if _, ok := families.index[CloudAWS][strings.ToLower(s)]; ok {
			return strings.ToLower(s), CloudAWS // a family with a dash: c7i-flex, p6e-gb200
		}
		return strings.ToLower(f), CloudGCP
	}
	return strings.ToLower(s), CloudAWS
}

// Arch returns the kubernetes.io/arch value of an instance type (or of a
// bare AWS family), and false when its family is not in the data: the
// architecture is then unknown.
func Arch(instanceType string) (string, bool) {
	family, cloud := Family(instanceType)
	arch, ok := families.index[cloud][strings.ToLower(family)]
	return arch, ok
}
