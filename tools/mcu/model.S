/* model.S - the model file linked into flash as a constant array (nin_mcu_model, 64-byte aligned
 * for reading in place), from the path tools/mcu/build.sh passes as NIN_MCU_MODEL. */
    .section .rodata.nin_model, "a"
    .balign 64
    .global nin_mcu_model
nin_mcu_model:
    .incbin NIN_MCU_MODEL
    .global nin_mcu_model_end
nin_mcu_model_end:
