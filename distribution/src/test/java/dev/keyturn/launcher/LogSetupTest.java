package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LogSetupTest {

  @Test
  void jsonLinesAreOneParseableObjectPerRecord() {
    LogRecord record = new LogRecord(Level.WARNING, "check of {0} failed: {1}");
    record.setParameters(new Object[] {"app", "provider said \"no\"\nsecond line\t\u0001"});
    record.setLoggerName("dev.keyturn.rotation.RotationEngine");
    String line = LogSetup.formatter("json").format(record);
    assertThat(line).endsWith(System.lineSeparator());
    assertThat(line.strip()).doesNotContain("\n");
    JsonObject json = JsonParser.parseString(line).getAsJsonObject();
    assertThat(json.get("level").getAsString()).isEqualTo("WARNING");
    assertThat(json.get("logger").getAsString()).isEqualTo("dev.keyturn.rotation.RotationEngine");
    assertThat(json.get("msg").getAsString())
        .isEqualTo("check of app failed: provider said \"no\"\nsecond line\t\u0001");
    assertThat(json.get("time").getAsString()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
  }

  @Test
  void textIsOneLineWithTheShortLoggerName() {
    LogRecord record = new LogRecord(Level.INFO, "mounted {0}");
    record.setParameters(new Object[] {"app"});
    record.setLoggerName("dev.keyturn.launcher.AgentCommand");
    assertThat(LogSetup.formatter("text").format(record))
        .matches(".*Z INFO AgentCommand: mounted app\\R");
  }
}
