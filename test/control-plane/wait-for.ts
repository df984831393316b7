// Tests import waitFor from here, beside their control plane fixture; the helper lives with the plane's client in
// dev-cluster/, which uses it too.
export { waitFor, type WaitOptions } from '../../dev-cluster/control-plane/wait-for.ts';
