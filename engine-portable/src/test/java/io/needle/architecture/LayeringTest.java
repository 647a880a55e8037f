package io.needle.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import io.needle.engine.NeedleEngine;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The engine's packages form layers with one direction (docs/ARCHITECTURE.md): each may use the
 * ones before it in {@link #LAYERS}, never one after it, and no two packages depend on each other.
 */
class LayeringTest {
    /** Bottom to top. */
    static final String[] LAYERS = {
        "base", "json", "tokenizer", "safetensors", "model", "tools", "grammar", "decoding", "engine",
    };

    /** The engine's own classes: the folder (or jar) NeedleEngine was loaded from, nothing else on the class path. */
    private static final JavaClasses ENGINE = new ClassFileImporter()
            .importUrl(NeedleEngine.class.getProtectionDomain().getCodeSource().getLocation());

    @Test
    void noPackageUsesOneAboveIt() {
        for (int i = 0; i < LAYERS.length - 1; i++) {
            String[] above = Arrays.stream(LAYERS, i + 1, LAYERS.length).map(p -> "io.needle." + p + "..").toArray(String[]::new);
            noClasses().that().resideInAPackage("io.needle." + LAYERS[i] + "..")
                    .should().dependOnClassesThat().resideInAnyPackage(above)
                    .because("io.needle." + LAYERS[i] + " is below " + String.join(", ", Arrays.copyOfRange(LAYERS, i + 1, LAYERS.length)))
                    .check(ENGINE);
        }
    }

    @Test
    void everyPackageIsALayer() {
        noClasses().should().resideOutsideOfPackages(Arrays.stream(LAYERS).map(p -> "io.needle." + p).toArray(String[]::new))
                .because("a new package takes its place in LayeringTest.LAYERS and docs/ARCHITECTURE.md")
                .check(ENGINE);
    }

    @Test
    void noCycles() {
        slices().matching("io.needle.(*)..").should().beFreeOfCycles().check(ENGINE);
    }
}
