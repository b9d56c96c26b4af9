#include "textflag.h"

// func axpy(alpha float64, x, y []float64)
TEXT ·axpy(SB), NOSPLIT, $0-56
	MOVSD alpha+0(FP), X0
	SHUFPD $0, X0, X0
	MOVQ x_base+8(FP), SI
	MOVQ y_base+32(FP), DI
	MOVQ y_len+40(FP), CX
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-4, DX

loop4:
	CMPQ AX, DX
	JGE tail
	MOVUPD (SI)(AX*8), X1
	MOVUPD 16(SI)(AX*8), X2
	MULPD X0, X1
	MULPD X0, X2
	MOVUPD (DI)(AX*8), X3
	MOVUPD 16(DI)(AX*8), X4
	ADDPD X1, X3
	ADDPD X2, X4
	MOVUPD X3, (DI)(AX*8)
	MOVUPD X4, 16(DI)(AX*8)
	ADDQ $4, AX
	JMP loop4

tail:
	CMPQ AX, CX
	JGE done
	MOVSD (SI)(AX*8), X1
	MULSD X0, X1
	MOVSD (DI)(AX*8), X3
	ADDSD X1, X3
	MOVSD X3, (DI)(AX*8)
	INCQ AX
	JMP tail

done:
	RET
