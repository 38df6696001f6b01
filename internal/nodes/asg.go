package nodes

import (
	"encoding/json"
	"fmt"
	"slices"
)

// asgTag is one tag as the AWS CLI writes it.
type asgTag struct {
	ResourceID        string `json:"ResourceId"`
	ResourceType      string `json:"ResourceType"`
	Key               string `json:"Key"`
	Value             string `json:"Value"`
	PropagateAtLaunch bool   `json:"PropagateAtLaunch"`
}

// describeTags is `aws autoscaling describe-tags` output.
type describeTags struct {
	Tags []asgTag `json:"Tags"`
}

// describeASGs is `aws autoscaling describe-auto-scaling-groups` output.
type describeASGs struct {
	AutoScalingGroups []struct {
		AutoScalingGroupName    string `json:"AutoScalingGroupName"`
		LaunchConfigurationName string `json:"LaunchConfigurationName"`
		LaunchTemplate          *struct {
			LaunchTemplateName string `json:"LaunchTemplateName"`
		} `json:"LaunchTemplate"`
		MixedInstancesPolicy *struct {
			LaunchTemplate struct {
				Overrides []struct {
					InstanceType         string          `json:"InstanceType"`
					InstanceRequirements json.RawMessage `json:"InstanceRequirements"`
				} `json:"Overrides"`
			} `json:"LaunchTemplate"`
		} `json:"MixedInstancesPolicy"`
		Instances []struct {
			InstanceType string `json:"InstanceType"`
		} `json:"Instances"`
		Tags []asgTag `json:"Tags"`
	} `json:"AutoScalingGroups"`
}

// eksNodegroupTag and eksctlNodegroupTag name the node group an ASG
// belongs to (EKS managed and eksctl self-managed groups).
const (
	eksNodegroupTag    = "eks:nodegroup-name"
	eksctlNodegroupTag = "alpha.eksctl.io/nodegroup-name"
)

// parseDescribeTags reads describe-tags JSON into one group per ASG.
func parseDescribeTags(src string, data []byte) ([]Group, error) {
	var d describeTags
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: describe-tags: %w", src, err)
	}
	var out []Group
	index := map[string]int{}
	for _, t := range d.Tags {
		if t.ResourceType != "" && t.ResourceType != "auto-scaling-group" {
			continue
		}
		i, ok := index[t.ResourceID]
		if !ok {
			i = len(out)
			index[t.ResourceID] = i
			out = append(out, asgGroup(src, t.ResourceID))
		}
		out[i].Tags[t.Key] = t.Value
	}
	for i := range out {
		out[i].Managed = out[i].Tags[eksNodegroupTag] != ""
	}
	return out, nil
}

func asgGroup(src, name string) Group {
	return Group{Name: name, ASGName: name, Kind: KindASG, Source: src, Tags: map[string]string{}}
}

// parseDescribeASGs reads describe-auto-scaling-groups JSON: instance types
// from the mixed-instances overrides in order (the Cluster Autoscaler
// templates from the first), else from the running instances.
func parseDescribeASGs(src string, data []byte) ([]Group, error) {
	var d describeASGs
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: describe-auto-scaling-groups: %w", src, err)
	}
	var out []Group
	for _, a := range d.AutoScalingGroups {
		g := asgGroup(src, a.AutoScalingGroupName)
		for _, t := range a.Tags {
			g.Tags[t.Key] = t.Value
		}
		g.Managed = g.Tags[eksNodegroupTag] != ""
		var types []string
		where := "mixed-instances override"
		if a.MixedInstancesPolicy != nil {
			for _, o := range a.MixedInstancesPolicy.LaunchTemplate.Overrides {
				if o.InstanceType != "" {
					types = append(types, o.InstanceType)
				} else if len(o.InstanceRequirements) > 0 {
					g.UnknownTypes = append(g.UnknownTypes, "instance requirements (attribute-based selection)")
				}
			}
		}
		if len(types) == 0 {
			where = "running instance"
			for _, in := range a.Instances {
				if !slices.Contains(types, in.InstanceType) {
					types = append(types, in.InstanceType)
				}
			}
		}
		if len(types) > 0 {
			unknown := g.UnknownTypes
			g.setTypes(types, where)
			g.UnknownTypes = append(unknown, g.UnknownTypes...)
		} else if len(g.UnknownTypes) == 0 {
			g.UnknownTypes = []string{"the launch template's instance type (not in describe-auto-scaling-groups output)"}
		}
		out = append(out, g)
	}
	return out, nil
}
