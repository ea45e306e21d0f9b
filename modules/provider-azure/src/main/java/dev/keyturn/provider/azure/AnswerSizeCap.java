package dev.keyturn.provider.azure;

import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.HttpPipelineCallContext;
import com.azure.core.http.HttpPipelineNextPolicy;
import com.azure.core.http.HttpPipelineNextSyncPolicy;
import com.azure.core.http.HttpPipelinePosition;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.policy.HttpPipelinePolicy;
import com.azure.core.util.BinaryData;
import com.azure.core.util.FluxUtil;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Refuses a vault's answer larger than a bound before it is read whole. The SDK reads an answer
 * body into memory and {@code maxObjectBytes} is checked on the value after that; a store's answer
 * is not trusted, so this policy, above the retry policy (one check per call), refuses an answer
 * whose {@code Content-Length} is over the bound without reading it, and reads one without a length
 * (chunked) only up to the bound. Key Vault itself caps a secret at 25 KB.
 */
final class AnswerSizeCap implements HttpPipelinePolicy {
  /**
   * azure-core's context key by which the SDK asks the HTTP client to read a whole answer into
   * memory before any policy sees it; this policy reads the answer itself, within the bound.
   */
  static final String EAGERLY_READ = "azure-eagerly-read-response";

  private final long maxBytes;

  AnswerSizeCap(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The bound for values of at most {@code maxObjectBytes}: base64 in JSON, with its envelope. */
  static AnswerSizeCap forObjects(int maxObjectBytes) {
    return new AnswerSizeCap(maxObjectBytes * 2L + 64 * 1024);
  }

  @Override
  public HttpPipelinePosition getPipelinePosition() {
    return HttpPipelinePosition.PER_CALL;
  }

  @Override
  public Mono<HttpResponse> process(HttpPipelineCallContext context, HttpPipelineNextPolicy next) {
    context.setData(EAGERLY_READ, false);
    return next.process()
        .flatMap(
            response -> {
              if (declared(response) >= 0) {
                return Mono.just(response);
              }
              AtomicLong seen = new AtomicLong();
              Flux<ByteBuffer> body =
                  response
                      .getBody()
                      .map(
                          b -> {
                            if (seen.addAndGet(b.remaining()) > maxBytes) {
                              response.close();
                              throw tooLarge("more than " + maxBytes);
                            }
                            return b;
                          });
              return FluxUtil.collectBytesInByteBufferStream(body)
                  .map(bytes -> (HttpResponse) new Read(response, bytes));
            });
  }

  @Override
  public HttpResponse processSync(
      HttpPipelineCallContext context, HttpPipelineNextSyncPolicy next) {
    context.setData(EAGERLY_READ, false);
    HttpResponse response = next.processSync();
    if (declared(response) >= 0) {
      return response;
    }
    try (InputStream in = response.getBodyAsBinaryData().toStream()) {
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
      if (bytes.length > maxBytes) {
        response.close();
        throw tooLarge("more than " + maxBytes);
      }
      return new Read(response, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The answer's declared length when it has one within the bound, or -1 when it has none. */
  private long declared(HttpResponse response) {
    String length = response.getHeaders().getValue(HttpHeaderName.CONTENT_LENGTH);
    if (length == null) {
      return -1;
    }
    long n;
    try {
      n = Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      response.close();
      throw tooLarge("an unreadable Content-Length");
    }
    if (n < 0 || n > maxBytes) {
      response.close();
      throw tooLarge(n + " bytes");
    }
    return n;
  }

  private ProviderException tooLarge(String size) {
    return ProviderException.of(
        Reason.PROVIDER_ERROR,
        "TooLarge",
        "azure provider: the vault answered with "
            + size
            + ", more than the "
            + maxBytes
            + " bytes an answer may have (maxObjectBytes); not read");
  }

  /** An answer whose body was read, within the bound. */
  private static final class Read extends HttpResponse {
    private final HttpResponse answer;
    private final byte[] body;

    Read(HttpResponse answer, byte[] body) {
      super(answer.getRequest());
      this.answer = answer;
      this.body = body;
    }

    @Override
    public int getStatusCode() {
      return answer.getStatusCode();
    }

    @Override
    @Deprecated
    public String getHeaderValue(String name) {
      return answer.getHeaders().getValue(HttpHeaderName.fromString(name));
    }

    @Override
    public HttpHeaders getHeaders() {
      return answer.getHeaders();
    }

    @Override
    public Flux<ByteBuffer> getBody() {
      return Flux.just(ByteBuffer.wrap(body));
    }

    @Override
    public Mono<byte[]> getBodyAsByteArray() {
      return Mono.just(body);
    }

    @Override
    public BinaryData getBodyAsBinaryData() {
      return BinaryData.fromBytes(body);
    }

    @Override
    public Mono<String> getBodyAsString() {
      return getBodyAsString(StandardCharsets.UTF_8);
    }

    @Override
    public Mono<String> getBodyAsString(Charset charset) {
      return Mono.just(new String(body, charset));
    }

    @Override
    public void close() {
      answer.close();
    }
  }
}
