package io.needle.wasm;

final class ScratchNonPortable {
    static byte[] read(String p) throws java.io.IOException {
        Thread t = new Thread(() -> System.out.println("thread"));
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
        return java.nio.file.Files.readAllBytes(java.nio.file.Path.of(p));
    }
}
