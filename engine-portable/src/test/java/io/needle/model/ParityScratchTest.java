package io.needle.model;

import io.needle.engine.NeedleEngine;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.nio.file.*;
import java.util.*;
import org.junit.jupiter.api.Test;

class ParityScratchTest {
    @Test
    void scratch() throws Exception {
        Path dir = Paths.get(System.getProperty("needle.shared"), "fixtures", "parity");
        for (String m : new String[] {"p1", "p2", "p3", "p4"}) {
            NeedleEngine e = NeedleEngine.load(Files.readAllBytes(dir.resolve(m + ".safetensors")), null);
            Map<?, ?> j = (Map<?, ?>) Json.parse(Files.readString(dir.resolve(m + ".json")));
            int ok = 0, n = 0;
            for (Object c : (List<?>) j.get("cases")) {
                Map<?, ?> cm = (Map<?, ?>) c;
                int[] in = ((List<?>) cm.get("input_ids")).stream().mapToInt(x -> Integer.parseInt(x.toString())).toArray();
                int[] exp = ((List<?>) cm.get("expected_ids")).stream().mapToInt(x -> Integer.parseInt(x.toString())).toArray();
                int max = Integer.parseInt(cm.get("max_new_tokens").toString());
                int[] got = e.generate(in, max);
                n++;
                if (Arrays.equals(got, exp)) ok++;
                else System.out.println(m + " " + cm.get("id") + " exp " + Arrays.toString(exp) + "\n   got " + Arrays.toString(got));
            }
            System.out.println(m + ": " + ok + "/" + n);
            if (j.get("embeddings") != null) {
                for (Object o : (List<?>) j.get("embeddings")) {
                    Map<?, ?> em = (Map<?, ?>) o;
                    int[] ids = ((List<?>) em.get("ids")).stream().mapToInt(x -> Integer.parseInt(x.toString())).toArray();
                    List<?> ev = (List<?>) em.get("embedding");
                    float[] got = e.model().contrastiveEmbedding(ids);
                    double maxd = 0;
                    for (int i = 0; i < got.length; i++) maxd = Math.max(maxd, Math.abs(got[i] - Double.parseDouble(ev.get(i).toString())));
                    System.out.println(m + " emb len " + ids.length + " dim " + got.length + "/" + ev.size() + " maxdiff " + maxd);
                }
            }
        }
    }
}
