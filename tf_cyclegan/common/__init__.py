"""The foundation every other package reads: errors, conventions (splits, directions,
pixel range), the architecture registry, the run configuration and its flags, the run
directory contract, atomic writes, interrupts and the command runner. Imports no other
package of tf_cyclegan."""
