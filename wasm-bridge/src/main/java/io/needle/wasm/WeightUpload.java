package io.needle.wasm;

import io.needle.safetensors.SafeTensors;
import org.teavm.jso.JSExport;
import org.teavm.jso.JSProperty;

/**
 * A weight file on its way into the linear memory, for a load whose bytes arrive over time (the
 * npm package's {@code NeedleWasm.loadStream}): {@link NeedleWasm#reserveSimd} has read and checked
 * the header and reserved the block; the package copies the file's bytes to {@link #getAddress()}
 * as they arrive, from byte 0 to {@link #getLength()}, then {@link #finish} loads the engine on
 * them, or {@link #release} gives the block back for the next load (a stream that failed, bytes
 * whose hash is not the expected one). Either ends the upload; the block is never used twice.
 */
public final class WeightUpload {
    private final LinearMemoryFile source;
    private final SafeTensors header; // parsed from the head alone
    private final int length;
    private LinearMemory block; // null once finished or released

    WeightUpload(LinearMemoryFile source, SafeTensors header, int length, LinearMemory block) {
        this.source = source;
        this.header = header;
        this.length = length;
        this.block = block;
    }

    /** Where byte 0 of the file goes in the linear memory. */
    @JSExport
    @JSProperty
    public int getAddress() {
        return open().address;
    }

    /** The file's length in bytes: the bytes expected from {@link #getAddress()} on. */
    @JSExport
    @JSProperty
    public int getLength() {
        return length;
    }

    /**
     * Loads the engine on the block, which must now hold the whole file (vocab may be null:
     * generate-only use). On failure the block goes back for the next load.
     */
    @JSExport
    public NeedleWasm finish(String vocabText) {
        LinearMemory b = open();
        block = null;
        return WasmError.guard(() -> NeedleWasm.loadFilled(source, header, length, b, vocabText));
    }

    /** Ends the upload without an engine: the block is kept for the next load. Again: nothing. */
    @JSExport
    public void release() {
        if (block != null) {
            NeedleWasm.spare(block);
            block = null;
        }
    }

    private LinearMemory open() {
        if (block == null) {
            throw new IllegalStateException("this weight upload was finished or released");
        }
        return block;
    }
}
