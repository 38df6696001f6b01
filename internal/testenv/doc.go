// Package testenv runs a real Kubernetes control plane for tests: etcd,
// kube-apiserver and, on request, kube-scheduler, as local processes on free
// 127.0.0.1 ports with generated certificates and all state under
// t.TempDir(). Tests get an admin client, a kubeconfig file, and helpers to
// add Ready Nodes of a given architecture and wait for Pods to be bound.
//
// The binaries come from hack/k8s-binaries.sh, which builds kube-apiserver
// and kube-scheduler of the release pinned in hack/testenv/go.mod and
// unpacks Debian's etcd into ${XDG_CACHE_HOME:-$HOME/.cache}/archway/k8s/<version>
// (or $ARCHWAY_K8S_BIN_DIR). `make test` runs it. Without the binaries a
// test using Start is skipped, or fails when CI=true.
//
// There is no kube-controller-manager and no kubelet: the ServiceAccount
// admission plugin is off, AddNode does the kubelet's status report, and
// Pods are bound to Nodes but never run. Only tests import this package.
package testenv
