// Prints, as JSON, the seccomp profile that containerd applies to a container with seccompProfile RuntimeDefault
// (the profile of manifests/base and of the executor's Jobs), for a runc config.json: containerd's own
// contrib/seccomp.DefaultProfile, given a process with every capability dropped as the manifests ask, because the
// profile allows some system calls only to holders of a capability (CAP_SYS_ADMIN, CAP_SYS_PTRACE, …). The profile
// also depends on the kernel version, so it is generated on the machine that runs the container, as containerd does.
// The containerd version is pinned in go.mod.
package main

import (
	"encoding/json"
	"os"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

func main() {
	spec := &specs.Spec{
		Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}},
		Linux:   &specs.Linux{},
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(seccomp.DefaultProfile(spec)); err != nil {
		os.Stderr.WriteString("seccomp-profile: " + err.Error() + "\n")
		os.Exit(1)
	}
}
