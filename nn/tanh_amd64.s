//go:build amd64 && !purego

#include "textflag.h"

DATA tanhc<>+0(SB)/4, $7.90531110763549805
DATA tanhc<>+4(SB)/4, $-7.90531110763549805
DATA tanhc<>+8(SB)/4, $0.0004
DATA tanhc<>+12(SB)/4, $-2.76076847742355e-16
DATA tanhc<>+16(SB)/4, $2.00018790482477e-13
DATA tanhc<>+20(SB)/4, $-8.60467152213735e-11
DATA tanhc<>+24(SB)/4, $5.12229709037114e-08
DATA tanhc<>+28(SB)/4, $1.48572235717979e-05
DATA tanhc<>+32(SB)/4, $6.37261928875436e-04
DATA tanhc<>+36(SB)/4, $4.89352455891786e-03
DATA tanhc<>+40(SB)/4, $1.19825839466702e-06
DATA tanhc<>+44(SB)/4, $1.18534705686654e-04
DATA tanhc<>+48(SB)/4, $2.26843463243900e-03
DATA tanhc<>+52(SB)/4, $4.89352518554385e-03
DATA tanhc<>+56(SB)/4, $0x7fffffff
GLOBL tanhc<>(SB), RODATA|NOPTR, $60

// func tanhAVX2(dst, src *float32, n int)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS tanhc<>+0(SB), Y8   // clamp
	VBROADCASTSS tanhc<>+4(SB), Y9   // -clamp
	VBROADCASTSS tanhc<>+8(SB), Y10  // small
	VBROADCASTSS tanhc<>+56(SB), Y11 // abs mask
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JGE  done
	VMOVUPS (SI)(BX*4), Y0       // x
	VANDPS  Y11, Y0, Y7          // |x|
	VCMPPS  $1, Y10, Y7, Y7      // |x| < small (LT_OS)
	VMINPS  Y0, Y8, Y1           // min(clamp, x), NaN → x
	VMAXPS  Y1, Y9, Y1           // max(-clamp, ·), NaN → ·
	VMULPS  Y1, Y1, Y2           // x2
	VBROADCASTSS tanhc<>+12(SB), Y3
	VBROADCASTSS tanhc<>+16(SB), Y4
	VMULPS  Y2, Y3, Y3
	VADDPS  Y4, Y3, Y3
	VBROADCASTSS tanhc<>+20(SB), Y4
	VMULPS  Y2, Y3, Y3
	VADDPS  Y4, Y3, Y3
	VBROADCASTSS tanhc<>+24(SB), Y4
	VMULPS  Y2, Y3, Y3
	VADDPS  Y4, Y3, Y3
	VBROADCASTSS tanhc<>+28(SB), Y4
	VMULPS  Y2, Y3, Y3
	VADDPS  Y4, Y3, Y3
	VBROADCASTSS tanhc<>+32(SB), Y4
	VMULPS  Y2, Y3, Y3
	VADDPS  Y4, Y3, Y3
	VBROADCASTSS tanhc<>+36(SB), Y4
	VMULPS  Y2, Y3, Y3
	VADDPS  Y4, Y3, Y3
	VMULPS  Y1, Y3, Y3           // p *= x
	VBROADCASTSS tanhc<>+40(SB), Y5
	VBROADCASTSS tanhc<>+44(SB), Y4
	VMULPS  Y2, Y5, Y5
	VADDPS  Y4, Y5, Y5
	VBROADCASTSS tanhc<>+48(SB), Y4
	VMULPS  Y2, Y5, Y5
	VADDPS  Y4, Y5, Y5
	VBROADCASTSS tanhc<>+52(SB), Y4
	VMULPS  Y2, Y5, Y5
	VADDPS  Y4, Y5, Y5
	VDIVPS  Y5, Y3, Y3           // p / q
	VBLENDVPS Y7, Y0, Y3, Y3     // small ? x : p/q
	VMOVUPS Y3, (DI)(BX*4)
	ADDQ    $8, BX
	JMP     loop

done:
	VZEROUPPER
	RET
