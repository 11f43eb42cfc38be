//go:build amd64 && !purego

#include "textflag.h"

// adamScalars layout: b1 0, omb1 4, b2 8, omb2 12, negStep 16, bc2sqrt 20,
// eps 24, l2 28, decayMul 32.

// func adamAVX(p, grad, m, v *float32, n int, k *adamScalars)
TEXT ·adamAVX(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // b1
	VBROADCASTSS 4(AX), Y9   // 1-b1
	VBROADCASTSS 8(AX), Y10  // b2
	VBROADCASTSS 12(AX), Y11 // 1-b2
	VBROADCASTSS 16(AX), Y12 // -lr/bc1
	VBROADCASTSS 20(AX), Y13 // sqrt(bc2)
	VBROADCASTSS 24(AX), Y14 // eps
	VBROADCASTSS 28(AX), Y15 // l2
	VBROADCASTSS 32(AX), Y7  // decayMul
	VXORPS Y6, Y6, Y6
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JGE  done
	VMOVUPS (DI)(BX*4), Y0 // p
	VMOVUPS (SI)(BX*4), Y1 // g
	VMULPS  Y15, Y0, Y2    // l2*p
	VADDPS  Y2, Y1, Y1     // g += l2*p
	VMULPS  Y7, Y0, Y0     // p *= decayMul
	VMOVUPS (R8)(BX*4), Y2 // m
	VMULPS  Y8, Y2, Y2     // m*b1
	VMULPS  Y1, Y9, Y3     // (1-b1)*g
	VADDPS  Y3, Y2, Y2     // m
	VMOVUPS Y2, (R8)(BX*4)
	VMOVUPS (R9)(BX*4), Y3 // v
	VMULPS  Y10, Y3, Y3    // v*b2
	VMULPS  Y1, Y11, Y4    // (1-b2)*g
	VMULPS  Y1, Y4, Y4     // *g
	VADDPS  Y4, Y3, Y3     // v
	VMOVUPS Y3, (R9)(BX*4)
	VSQRTPS Y3, Y3
	VDIVPS  Y13, Y3, Y3    // sqrt(v)/sqrt(bc2)
	VADDPS  Y14, Y3, Y3    // + eps
	VMULPS  Y2, Y12, Y2    // negStep*m
	VDIVPS  Y3, Y2, Y2     // /denom
	VADDPS  Y2, Y0, Y0     // p + …
	VMOVUPS Y0, (DI)(BX*4)
	VMOVUPS Y6, (SI)(BX*4) // g = 0
	ADDQ    $8, BX
	JMP     loop

done:
	VZEROUPPER
	RET
