// Package platform is the Platform value (os/arch[/variant]): parsing,
// normalising the many spellings registries and people use, matching an
// image's platform against a node's, and sets of platforms.
//
// Input is normalised where it enters: aarch64 and arm64/v8 are arm64,
// x86_64 and x86-64 are amd64, armhf is arm/v7, armel is arm/v6, and a
// missing OS is linux.
package platform
