// Package nodes reads node-group definitions (eksctl ClusterConfig, Karpenter
// NodePool and EC2NodeClass, Auto Scaling group JSON from the AWS CLI, live
// Nodes) into one Group model, checks them the way the Cluster Autoscaler
// and Karpenter will read them (architecture of every instance type,
// node-template label and taint tags, taints vs tags), plans the tags a
// group is missing, and predicts where each workload can land: the groups
// its pods schedule on (nodeSelector, required node affinity, tolerations vs
// taints, as kube-scheduler decides) and whether its images run there.
//
// Instance types map to architectures through embedded data
// (instancetypes.yaml, with its sources and date); a family the data does
// not list is unknown, never assumed to be x86.
//
// Everything here is pure except the readers of files and of a cluster's
// Nodes, which take their input as bytes or a client.
package nodes
