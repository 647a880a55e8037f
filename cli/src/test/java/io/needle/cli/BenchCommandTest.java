package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.json.Json;
import io.needle.model.Config;
import io.needle.model.ConfigReader;
import io.needle.safetensors.DType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench} on a tiny model (the full-size run is the benchmark itself, not a test). */
class BenchCommandTest {
    @TempDir
    Path tmp;

    @Test
    void reportsBothWorkloadsAsJson() {
        Path[] m = Cli.tinyModel(tmp, 5);
        String line = Cli.run("bench", "--weights", m[0].toString(), "--vocab", m[1].toString(), "--runs", "1",
                "--warmup", "0", "--no-roofline", "--json", "--save", tmp.resolve("saved").toString()).ok().line();
        Map<?, ?> report = (Map<?, ?>) Json.parse(line);
        List<?> workloads = (List<?>) report.get("workloads");
        assertEquals(2, workloads.size());
        Map<?, ?> standard = (Map<?, ?>) workloads.get(0);
        assertEquals("standard", standard.get("name"));
        assertEquals("32", standard.get("decode_steps").toString());
        assertTrue(Integer.parseInt(standard.get("encoder_tokens").toString()) > 60);
        assertEquals("20", ((Map<?, ?>) workloads.get(1)).get("decode_steps").toString());
        for (Object w : workloads) { // the warm engine's request, timed apart from the fresh engines' first ones
            Map<?, ?> wl = (Map<?, ?>) w;
            assertTrue(Double.parseDouble(wl.get("warm_encode_ms").toString()) > 0, wl.toString());
            assertTrue(Double.parseDouble(wl.get("warm_decode_ms").toString()) > 0, wl.toString());
        }
        assertTrue(Files.exists(tmp.resolve("saved/bench.safetensors")));
    }

    @Test
    void twoThreadsDecodeTheSameTokens() {
        Path[] m = Cli.tinyModel(tmp, 6);
        List<Object> tokens = new java.util.ArrayList<>();
        for (String threads : new String[] {"1", "2"}) {
            String line = Cli.run("bench", "--weights", m[0].toString(), "--vocab", m[1].toString(), "--runs", "1",
                    "--warmup", "0", "--no-roofline", "--json", "--threads", threads).ok().line();
            Map<?, ?> report = (Map<?, ?>) Json.parse(line);
            assertEquals(threads, report.get("threads").toString());
            for (Object w : (List<?>) report.get("workloads")) {
                tokens.add(((Map<?, ?>) w).get("tokens"));
            }
        }
        assertEquals(tokens.subList(0, 2), tokens.subList(2, 4));
    }

    @Test
    void theStandardWorkloadHasAbout120EncoderTokensWithTheBenchVocabulary() {
        NeedleEngine e = NeedleEngine.load(ModelWriter.tiny().vocabSize(8192).build(),
                TestVocab.wordPrefixes(8192, BenchCommand.SEED));
        int n = e.prompt(BenchCommand.QUERY, BenchCommand.TOOLS).length;
        assertTrue(n >= 100 && n <= 140, "standard workload encoder tokens: " + n);
    }

    @Test
    void theRooflineCountsTheWorkFromTheConfig() {
        NeedleEngine e = NeedleEngine.load(ModelWriter.fullSize().build(), null);
        Roofline.Work w = Roofline.work(e.config(), 120, 32);
        // encoder: 12 layers x 120 tokens x 786432 projection multiply-adds dominate (about 2.3 GFLOP)
        assertTrue(w.encodeFlops > 2.2e9 && w.encodeFlops < 3.2e9, "encode flops " + w.encodeFlops);
        // decode: per step 8 x 1310720 projection + 4194304 output multiply-adds (about 0.95 GFLOP for 32)
        assertTrue(w.decodeFlops > 0.9e9 && w.decodeFlops < 1.1e9, "decode flops " + w.decodeFlops);
    }

    @Test
    void theRooflineCountsLinearBytesAsTheFileStoresThem() {
        // in 64 (2 groups of 32), ffn_dim 75 (padded to 96) and 15 (one group of 15 rows, 8 byte rows)
        for (int ffn : new int[] {75, 15}) {
            byte[] file = ModelWriter.tiny().dModel(64).ffn(ffn, "geglu").seed(3).build();
            SafeTensors st = SafeTensors.parse(file);
            Config c = ConfigReader.read(st);
            int linears = 0;
            for (TensorInfo t : st.tensors()) {
                if (t.dtype() != DType.I4) {
                    continue;
                }
                int[] io = InspectCommand.logical(c, t.name());
                long stored = t.byteLength() + st.get(t.name() + ".scale").byteLength();
                assertEquals((double) stored, Roofline.linearBytes(io[0], io[1]), 0.0, t.name());
                linears++;
            }
            assertEquals(4 * (2 + 2 * 2) + 3 * (2 + 2), linears, "every linear of the model is INT4");
        }
    }
}
