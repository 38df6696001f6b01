package placement

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// FuzzPlace checks the merge on arbitrary pod specs: the input is a JSON
// PodSpec (or, when it does not decode, the seed of a generated one) and a
// byte choosing the options. Properties: the input is not modified, Changed
// is honest, placement is idempotent, never loosens the required node
// affinity, and a placement without findings keeps the pod on nodes that
// run every container.
func FuzzPlace(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 16 {
		s := genSpec(r)
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(r.IntN(256)))
	}
	f.Add([]byte(`{"containers":[{"name":"a","image":"amd"}],"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]},{}]}}}}`), uint8(0))
	f.Add([]byte("not json"), uint8(7))
	nodes := testNodes()
	f.Fuzz(func(t *testing.T, data []byte, optBits uint8) {
		var spec corev1.PodSpec
		if err := json.Unmarshal(data, &spec); err != nil {
			h := fnv.New64a()
			h.Write(data)
			spec = genSpec(rand.New(rand.NewPCG(h.Sum64(), 0)))
		}
		opts := genOptions(rand.New(rand.NewPCG(uint64(optBits), 0)))
		checkProperties(t, "fuzz", &spec, opts, nodes)
	})
}
