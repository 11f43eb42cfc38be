// Package oracle holds a test-only cross-check of cpntrain's gradients
// against gorgonia's symbolic autodiff. See README.md.
package oracle
