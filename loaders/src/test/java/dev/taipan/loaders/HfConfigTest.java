package dev.taipan.loaders;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class HfConfigTest {
    private static HfConfig config(String json) {
        return HfConfig.parse("config.json", json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsTheMamba3FixtureConfig() {
        HfConfig c = HfConfig.read(Resources.path("mamba3/siso_softplus_f32/config.json"));
        assertEquals("mamba3", c.modelType());
        assertEquals(48, c.getInt("hidden_size"));
        assertEquals(97, c.getInt("vocab_size"));
        assertEquals(1e-5, c.getDouble("norm_eps"));
        assertEquals(0.5f, c.getFloat("rope_fraction"));
        assertFalse(c.getBool("is_mimo"));
        assertEquals("softplus", c.getString("a_activation"));
        assertEquals(1.0f, c.getFloat("absent", 1.0f));
        assertTrue(c.getObject("_fixture_extra_keys").orElseThrow().getString("a_activation").startsWith("NOT"));
    }

    @Test
    void typedGettersNameTheKey() {
        HfConfig c = config("{\"a\": \"x\", \"n\": 4096.0, \"big\": 5000000000, \"f\": 1, \"nul\": null,"
                + " \"arr\": [1, 2, 3], \"s\": [\"p\", \"q\"], \"o\": {\"t\": \"linear\", \"factor\": 2}}");
        assertEquals(4096, c.getInt("n"));
        assertEquals(1.0, c.getDouble("f"));
        assertEquals(5_000_000_000L, c.getLong("big"));
        assertArrayEquals(new int[] {1, 2, 3}, c.getIntArray("arr"));
        assertArrayEquals(new double[] {1, 2, 3}, c.getDoubleArray("arr"));
        assertEquals(List.of("p", "q"), c.getStringArray("s"));
        assertFalse(c.has("nul"));
        assertEquals(7, c.getInt("nul", 7));
        assertEquals(2.0, c.getObject("o").orElseThrow().getDouble("factor"));
        assertTrue(c.getObject("nul").isEmpty());

        assertEquals("config.json: key 'a' is STRING (\"x\"), expected an integer",
                assertThrows(ModelFormatException.class, () -> c.getInt("a")).getMessage());
        assertEquals("config.json: missing key 'zz'",
                assertThrows(ModelFormatException.class, () -> c.getString("zz")).getMessage());
        assertTrue(assertThrows(ModelFormatException.class, () -> c.getInt("big")).getMessage()
                .contains("key 'big' = 5000000000 does not fit an int"));
        assertTrue(assertThrows(ModelFormatException.class, () -> c.getStringArray("arr")).getMessage()
                .contains("key 'arr[0]'"));
        assertTrue(assertThrows(ModelFormatException.class, () -> c.getObject("o").orElseThrow().getInt("t"))
                .getMessage().startsWith("config.json 'o': key 't'"));
        assertThrows(ModelFormatException.class, () -> c.getBool("f"));
        assertThrows(ModelFormatException.class, () -> c.getObject("a"));
    }

    @Test
    void refusesMalformedJson() {
        assertTrue(assertThrows(ModelFormatException.class, () -> config("{\"a\": ")).getMessage()
                .startsWith("config.json: malformed JSON"));
        assertThrows(ModelFormatException.class, () -> config("[1]"));
        assertThrows(ModelFormatException.class, () -> config(""));
        assertThrows(ModelFormatException.class, () -> config("{\"a\": 1, \"a\": 2}"));
    }
}
